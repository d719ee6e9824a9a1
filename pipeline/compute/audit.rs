//! The statistical audit of the index (JRC practice, COINr's `get_cronbach`, `get_corr` and
//! `get_PCA`): Cronbach's alpha of the children of every aggregate, Pearson correlations of the
//! indicators with their dimension and the index and within each dimension, PCA of each
//! dimension's indicators, and the flags a reader should act on. Pure.

use super::index::{IndexResult, NodeInfo, Panel};
use crate::catalog::Catalog;
use crate::codes::{AuditFlag, Relation};
use crate::results::{AuditAlphaRow, AuditCorrelationRow, AuditFlagRow, AuditLoadingRow, AuditPcaRow};

/// An indicator weaker than this against its dimension (|r|, or a p-value above
/// `SIGNIFICANCE`) is flagged; a pair above `COLLINEAR` is flagged as collinear.
pub const SIGNIFICANCE: f64 = 0.05;
pub const COLLINEAR: f64 = 0.9;
/// A dimension with alpha below this, or a first component explaining less than
/// `FIRST_COMPONENT` of the variance, is flagged.
pub const ALPHA: f64 = 0.7;
pub const FIRST_COMPONENT: f64 = 0.5;

/// The pairs of values both present.
fn pairs<'a>(x: &'a [Option<f64>], y: &'a [Option<f64>]) -> impl Iterator<Item = (f64, f64)> + 'a {
    x.iter().zip(y).filter_map(|(a, b)| Some(((*a)?, (*b)?))).filter(|(a, b)| a.is_finite() && b.is_finite())
}

/// Sample covariance over the observations where both are present (R's `cov(use =
/// "pairwise.complete.obs")`); None with fewer than two.
pub fn covariance(x: &[Option<f64>], y: &[Option<f64>]) -> Option<f64> {
    let p: Vec<(f64, f64)> = pairs(x, y).collect();
    if p.len() < 2 {
        return None;
    }
    let n = p.len() as f64;
    let (mx, my) = (p.iter().map(|v| v.0).sum::<f64>() / n, p.iter().map(|v| v.1).sum::<f64>() / n);
    Some(p.iter().map(|(a, b)| (a - mx) * (b - my)).sum::<f64>() / (n - 1.0))
}

/// Pearson correlation over pairwise-complete observations, and their number; None when either
/// side does not vary.
pub fn pearson(x: &[Option<f64>], y: &[Option<f64>]) -> Option<(f64, usize)> {
    let p: Vec<(f64, f64)> = pairs(x, y).collect();
    let n = p.len();
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let (mx, my) = (p.iter().map(|v| v.0).sum::<f64>() / nf, p.iter().map(|v| v.1).sum::<f64>() / nf);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in &p {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| ((sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0), n))
}

/// Two-sided p-value of a Pearson correlation `r` over `n` observations (t-test, n − 2 degrees
/// of freedom, as R's `cor.test`).
pub fn p_value(r: f64, n: usize) -> Option<f64> {
    if n < 3 {
        return None;
    }
    let df = (n - 2) as f64;
    if r.abs() >= 1.0 {
        return Some(0.0);
    }
    let t2 = r * r * df / (1.0 - r * r);
    Some(incomplete_beta(df / 2.0, 0.5, df / (df + t2)))
}

/// Regularised incomplete beta I_x(a, b) (continued fraction, Lentz's method).
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    // The continued fraction converges fast for x < (a + 1)/(a + b + 2); use the symmetry otherwise.
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - incomplete_beta(b, a, 1.0 - x);
    }
    let tiny = 1e-300;
    let (mut c, mut d) = (1.0, 1.0 - (a + b) * x / (a + 1.0));
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut f = d;
    for m in 1..300 {
        let m = m as f64;
        for num in [
            m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)),
        ] {
            d = 1.0 + num * d;
            if d.abs() < tiny {
                d = tiny;
            }
            c = 1.0 + num / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            f *= c * d;
        }
        if (c * d - 1.0).abs() < 1e-15 {
            break;
        }
    }
    (ln_front.exp() * f / a).clamp(0.0, 1.0)
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7).
fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let s = C[1..].iter().enumerate().fold(C[0], |s, (i, c)| s + c / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + s.ln()
}

/// Cronbach's alpha of `columns` from their pairwise-complete covariance matrix C:
/// k/(k − 1)·(1 − trace C / ΣC). None with fewer than two columns or an undefined covariance.
pub fn cronbach(columns: &[&[Option<f64>]]) -> Option<f64> {
    let k = columns.len();
    if k < 2 {
        return None;
    }
    let (mut trace, mut total) = (0.0, 0.0);
    for i in 0..k {
        for j in 0..k {
            let c = covariance(columns[i], columns[j])?;
            total += c;
            if i == j {
                trace += c;
            }
        }
    }
    (total != 0.0).then(|| k as f64 / (k as f64 - 1.0) * (1.0 - trace / total))
}

/// A principal component analysis of standardised columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Pca {
    /// Share of the variance of each component, largest first.
    pub variance_share: Vec<f64>,
    /// Loadings of the first component, one per column, signed so that the largest is positive.
    pub first: Vec<f64>,
    /// Rows with every column present, which the analysis used.
    pub rows: usize,
}

/// PCA on the rows with no missing value, centred and scaled (R's `prcomp(na.omit(x), center =
/// TRUE, scale. = TRUE)`): the eigen decomposition of the correlation matrix.
pub fn pca(columns: &[&[Option<f64>]]) -> Option<Pca> {
    let k = columns.len();
    let n = columns.first()?.len();
    let rows: Vec<usize> = (0..n).filter(|&i| columns.iter().all(|c| c[i].is_some_and(f64::is_finite))).collect();
    if k < 2 || rows.len() < 3 {
        return None;
    }
    let z: Vec<Vec<f64>> = columns
        .iter()
        .map(|c| {
            let v: Vec<f64> = rows.iter().map(|&i| c[i].unwrap()).collect();
            let m = v.iter().sum::<f64>() / v.len() as f64;
            let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0)).sqrt();
            (sd > 0.0).then(|| v.iter().map(|x| (x - m) / sd).collect())
        })
        .collect::<Option<_>>()?;
    let nf = (rows.len() - 1) as f64;
    let mut a: Vec<Vec<f64>> = (0..k)
        .map(|i| (0..k).map(|j| z[i].iter().zip(&z[j]).map(|(x, y)| x * y).sum::<f64>() / nf).collect())
        .collect();
    let (values, vectors) = jacobi(&mut a);
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&x, &y| values[y].total_cmp(&values[x]));
    let sum: f64 = values.iter().sum();
    let mut first: Vec<f64> = (0..k).map(|i| vectors[i][order[0]]).collect();
    let largest = first.iter().copied().fold(0.0f64, |m, v| if v.abs() > m.abs() { v } else { m });
    if largest < 0.0 {
        first.iter_mut().for_each(|v| *v = -*v);
    }
    Some(Pca { variance_share: order.iter().map(|&i| values[i].max(0.0) / sum).collect(), first, rows: rows.len() })
}

/// Eigenvalues and eigenvectors (columns of the second result) of a symmetric matrix, by
/// cyclic Jacobi rotations; `a` is destroyed.
fn jacobi(a: &mut [Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut v: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect()).collect();
    for _ in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum();
        if off < 1e-30 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vkp, vkq) = (row[p], row[q]);
                    row[p] = c * vkp - s * vkq;
                    row[q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i][i]).collect(), v)
}

/// Every audit table of one analysis.
#[derive(Debug, Default)]
pub struct Audit {
    pub alpha: Vec<AuditAlphaRow>,
    pub correlations: Vec<AuditCorrelationRow>,
    pub pca: Vec<AuditPcaRow>,
    pub loadings: Vec<AuditLoadingRow>,
    pub flags: Vec<AuditFlagRow>,
}

impl Audit {
    /// `other`'s rows after these, table by table.
    pub fn append(&mut self, other: Audit) {
        self.alpha.extend(other.alpha);
        self.correlations.extend(other.correlations);
        self.pca.extend(other.pca);
        self.loadings.extend(other.loadings);
        self.flags.extend(other.flags);
    }
}

/// The audit of the index on `rows` of the panel (every county-year for a pooled index, one
/// year's for an index normalised year by year); `year` labels it (None: pooled).
pub fn audit(
    panel: &Panel,
    r: &IndexResult,
    catalog: &Catalog,
    year: Option<i32>,
    rows: std::ops::Range<usize>,
) -> Audit {
    // Borrowed, not copied: the pairs and relations below look the same columns up many times.
    let indicator =
        |code: &str| panel.indicators.iter().position(|c| c == code).map(|k| &r.normalised[k][rows.clone()]);
    let node = |code: &str| r.scores.get(code).map(|s| &s[rows.clone()]);
    let column = |code: &str| indicator(code).or_else(|| node(code));
    let index_code = catalog.index.code.as_str();
    let parents: Vec<&NodeInfo> = r.nodes.iter().filter(|n| !n.children.is_empty()).collect();

    // The nodes and the indicators' relations on both cores, their rows in this order.
    let (mut out, relations) = rayon::join(
        || {
            let mut out = Audit::default();
            nodes(&mut out, &parents, year, catalog, &indicator, &column);
            out
        },
        || {
            let mut out = Audit::default();
            relations(&mut out, &parents, year, catalog, index_code, panel, r, &rows, &node);
            out
        },
    );
    out.append(relations);
    out
}

/// Each parent node: its children's consistency (alpha), their principal components when they
/// are indicators, and the correlation of each pair of them.
fn nodes<'a>(
    out: &mut Audit,
    parents: &[&NodeInfo],
    year: Option<i32>,
    catalog: &Catalog,
    indicator: &dyn Fn(&str) -> Option<&'a [Option<f64>]>,
    column: &dyn Fn(&str) -> Option<&'a [Option<f64>]>,
) {
    for n in parents {
        let cols: Vec<&[Option<f64>]> = n.children.iter().filter_map(|c| column(c)).collect();
        let refs: Vec<&[Option<f64>]> = cols;
        let alpha = cronbach(&refs);
        out.alpha.push(AuditAlphaRow {
            year,
            node: n.code.clone(),
            level: n.level as u32,
            children: n.children.len() as u32,
            alpha,
        });
        // The dimensions' own consistency is what the audit judges; deeper levels are listed.
        let is_dimension = catalog.dimensions().any(|d| d.code == n.code);
        let of_indicators = n.children.iter().all(|c| indicator(c).is_some());
        if let Some(a) = alpha.filter(|a| *a < ALPHA && (is_dimension || of_indicators)) {
            out.flags.push(flag(year, AuditFlag::LowAlpha, &n.code, None, None, a, ALPHA));
        }
        if !of_indicators {
            continue;
        }
        if let Some(p) = pca(&refs) {
            let mut cumulative = 0.0;
            for (i, share) in p.variance_share.iter().enumerate() {
                cumulative += share;
                out.pca.push(AuditPcaRow {
                    year,
                    node: n.code.clone(),
                    component: i as u32 + 1,
                    variance_share: *share,
                    cumulative,
                    rows: p.rows as u32,
                });
            }
            for (c, l) in n.children.iter().zip(&p.first) {
                out.loadings.push(AuditLoadingRow { year, node: n.code.clone(), indicator: c.clone(), loading: *l });
            }
            if p.variance_share[0] < FIRST_COMPONENT {
                out.flags.push(flag(
                    year,
                    AuditFlag::WeakFirstComponent,
                    &n.code,
                    None,
                    None,
                    p.variance_share[0],
                    FIRST_COMPONENT,
                ));
            }
        }
        for (i, a) in n.children.iter().enumerate() {
            for b in &n.children[i + 1..] {
                let (Some(x), Some(y)) = (indicator(a), indicator(b)) else { continue };
                let Some((rv, m)) = pearson(x, y) else { continue };
                out.correlations.push(AuditCorrelationRow {
                    year,
                    indicator: a.clone(),
                    against: b.clone(),
                    relation: Relation::Pair,
                    r: rv,
                    p_value: p_value(rv, m),
                    n: m as u32,
                });
                if rv.abs() > COLLINEAR {
                    out.flags.push(flag(year, AuditFlag::Collinear, &n.code, Some(a), Some(b), rv, COLLINEAR));
                }
            }
        }
    }
}

/// Every indicator against its parent, its dimension (when deeper), the other dimensions and
/// the index.
#[allow(clippy::too_many_arguments)]
fn relations<'a>(
    out: &mut Audit,
    parents: &[&NodeInfo],
    year: Option<i32>,
    catalog: &Catalog,
    index_code: &str,
    panel: &Panel,
    r: &IndexResult,
    rows: &std::ops::Range<usize>,
    node: &dyn Fn(&str) -> Option<&'a [Option<f64>]>,
) {
    for (k, code) in panel.indicators.iter().enumerate() {
        let x = &r.normalised[k][rows.clone()];
        let parent = parents.iter().find(|n| n.children.contains(code)).map(|n| n.code.clone());
        let dimension = catalog.dimension_of(code).map(|d| d.code.clone());
        let mut against: Vec<(String, Relation)> = Vec::new();
        if let Some(p) = &parent {
            against.push((p.clone(), Relation::Parent));
        }
        if let Some(d) = dimension.clone().filter(|d| Some(d) != parent.as_ref()) {
            against.push((d, Relation::Dimension));
        }
        for d in
            catalog.dimensions().filter(|d| Some(&d.code) != dimension.as_ref() && Some(&d.code) != parent.as_ref())
        {
            against.push((d.code.clone(), Relation::OtherDimension));
        }
        if parent.as_deref() != Some(index_code) {
            against.push((index_code.to_string(), Relation::Index));
        }
        for (node_code, relation) in against {
            let Some(y) = node(&node_code) else { continue };
            let Some((rv, m)) = pearson(x, y) else { continue };
            let p = p_value(rv, m);
            out.correlations.push(AuditCorrelationRow {
                year,
                indicator: code.clone(),
                against: node_code.clone(),
                relation,
                r: rv,
                p_value: p,
                n: m as u32,
            });
            let own_dimension = relation == Relation::Parent
                && catalog.dimension_of(code).is_some_and(|d| d.code == node_code)
                || relation == Relation::Dimension;
            if own_dimension && (rv < 0.0 || p.is_some_and(|p| p > SIGNIFICANCE)) {
                let kind =
                    if rv < 0.0 { AuditFlag::NegativeWithDimension } else { AuditFlag::InsignificantWithDimension };
                out.flags.push(flag(
                    year,
                    kind,
                    &node_code,
                    Some(code),
                    None,
                    rv,
                    if rv < 0.0 { 0.0 } else { SIGNIFICANCE },
                ));
            }
        }
    }
}

fn flag(
    year: Option<i32>,
    kind: AuditFlag,
    node: &str,
    indicator: Option<&str>,
    other: Option<&str>,
    value: f64,
    threshold: f64,
) -> AuditFlagRow {
    AuditFlagRow {
        year,
        flag: kind,
        node: node.to_string(),
        indicator: indicator.map(str::to_string),
        other: other.map(str::to_string),
        value,
        threshold,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(v: &[f64]) -> Vec<Option<f64>> {
        v.iter().map(|x| Some(*x)).collect()
    }

    #[test]
    fn correlation_covariance_and_p_value_by_hand() {
        let x = col(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        let y = [Some(2.0), Some(4.0), None, Some(8.0), Some(10.0)];
        assert_eq!(pearson(&x, &y), Some((1.0, 4)), "pairwise complete: the missing pair is skipped");
        // cov(1,2,4,5 ; 2,4,8,10) = 2 · var(1,2,4,5) = 2 · 10/3.
        assert!((covariance(&x, &y).unwrap() - 20.0 / 3.0).abs() < 1e-12);
        // r = 0.5, n = 10: t = 0.5·√8/√0.75 = 1.63299 on 8 degrees of freedom; two-sided
        // p = 0.14111328125 (R's cor.test, scipy's 2·t.sf).
        assert!((p_value(0.5, 10).unwrap() - 0.141_113_281_25).abs() < 1e-12, "{:?}", p_value(0.5, 10));
        // r = 0.3, n = 50: p = 0.0342862 (scipy), just significant.
        assert!((p_value(0.3, 50).unwrap() - 0.034_286_18).abs() < 1e-8, "{:?}", p_value(0.3, 50));
        assert!((p_value(0.0, 30).unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(pearson(&col(&[1.0, 1.0, 1.0]), &x[..3]), None, "no variation, no correlation");
    }

    #[test]
    fn cronbach_alpha_by_hand() {
        // Two items with var 1 and 4 and covariance 2 (perfectly correlated): C = [[1, 2], [2, 4]],
        // alpha = 2·(1 − 5/9) = 8/9.
        let a = col(&[0.0, 1.0, 2.0]);
        let b = col(&[0.0, 2.0, 4.0]);
        assert!((cronbach(&[&a, &b]).unwrap() - 8.0 / 9.0).abs() < 1e-12);
        assert_eq!(cronbach(&[&a]), None);
    }

    #[test]
    fn pca_of_a_correlation_matrix_by_hand() {
        // Two standardised columns with r = 0.8: eigenvalues 1.8 and 0.2, loadings (1, 1)/√2.
        let x = col(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        let y = col(&[2.0, 1.0, 4.0, 3.0, 5.0]);
        let r = pearson(&x, &y).unwrap().0;
        let p = pca(&[&x, &y]).unwrap();
        assert!((p.variance_share[0] - (1.0 + r) / 2.0).abs() < 1e-12, "{p:?}");
        assert!((p.first[0] - 0.5f64.sqrt()).abs() < 1e-12 && (p.first[1] - 0.5f64.sqrt()).abs() < 1e-12);
        assert_eq!(p.rows, 5);
    }
}
