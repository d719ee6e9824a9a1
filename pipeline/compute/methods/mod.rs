//! The index's numerical kernels: normalisation, outlier treatment, imputation, aggregation,
//! weights and ranks, as pure functions following COINr 1.1.14's conventions.
//!
//! Data are columns of `Option<f64>`: `None` is missing, and a non-finite input is read as
//! missing too, so no NaN or infinity ever leaves this module. Two kinds of trouble are kept
//! apart: a parameter the caller got wrong (a direction other than ±1, an empty goalpost
//! range, a missing target, a negative weight) is a [`MethodError`]; a degenerate *data*
//! case (an all-equal column, a zero standard deviation, a target equal to the minimum) gives
//! `None` scores, which is what COINr's NaN amounts to, since its aggregation skips NaN like NA.

use std::fmt;

/// Why a method refused its input.
#[derive(Debug, Clone, PartialEq)]
pub enum MethodError {
    /// A direction other than 1 or −1.
    InvalidDirection(f64),
    /// A method parameter out of its domain; the text names it.
    InvalidParameter(&'static str),
    /// Distance to target was asked for without a target.
    MissingTarget,
    /// Two inputs that must line up do not.
    LengthMismatch { what: &'static str, expected: usize, found: usize },
    /// Years for interpolation are not strictly increasing.
    YearsNotIncreasing,
    /// Weights are empty, negative, non-finite, or sum to zero.
    InvalidWeights,
    /// Aggregation got no columns.
    NoColumns,
    /// A mean needing positive (or non-negative) inputs met one outside its domain.
    OutOfDomain { method: &'static str, row: usize, value: f64 },
    /// No column varies, so entropy weights are undefined.
    NoInformation,
}

impl fmt::Display for MethodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidDirection(d) => write!(f, "direction must be 1 or -1, got {d}"),
            Self::InvalidParameter(what) => write!(f, "invalid parameter: {what}"),
            Self::MissingTarget => write!(f, "distance to target needs a target"),
            Self::LengthMismatch { what, expected, found } => {
                write!(f, "{what}: expected length {expected}, found {found}")
            }
            Self::YearsNotIncreasing => write!(f, "years must be strictly increasing"),
            Self::InvalidWeights => {
                write!(f, "weights must be finite, non-negative and not all zero")
            }
            Self::NoColumns => write!(f, "nothing to aggregate: no columns"),
            Self::OutOfDomain { method, row, value } => {
                write!(f, "{method} is undefined for value {value} in row {row}")
            }
            Self::NoInformation => {
                write!(f, "no column varies: entropy weights are undefined")
            }
        }
    }
}

impl std::error::Error for MethodError {}

/// Finite values only: NaN and infinities count as missing.
fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

fn present(x: &[Option<f64>]) -> impl Iterator<Item = f64> + '_ {
    x.iter().filter_map(|v| finite(*v))
}

fn check_direction(direction: f64) -> Result<(), MethodError> {
    if direction == 1.0 || direction == -1.0 {
        Ok(())
    } else {
        Err(MethodError::InvalidDirection(direction))
    }
}

/// `columns` are non-empty and of one length, with one `per_column` value each (`what` names
/// those values in the error). Returns the row count.
fn check_shape(columns: &[&[Option<f64>]], per_column: usize, what: &'static str) -> Result<usize, MethodError> {
    let first = columns.first().ok_or(MethodError::NoColumns)?;
    if per_column != columns.len() {
        return Err(MethodError::LengthMismatch { what, expected: columns.len(), found: per_column });
    }
    if let Some(c) = columns.iter().find(|c| c.len() != first.len()) {
        return Err(MethodError::LengthMismatch { what: "column length", expected: first.len(), found: c.len() });
    }
    Ok(first.len())
}

/// Weights for aggregation: finite and non-negative, one per column.
fn check_weights(columns: &[&[Option<f64>]], weights: &[f64]) -> Result<usize, MethodError> {
    let rows = check_shape(columns, weights.len(), "weights vs columns")?;
    if weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
        return Err(MethodError::InvalidWeights);
    }
    Ok(rows)
}

/// Shares of a total: `spread` scaled to sum to 1, or no information when nothing spreads.
fn shares(spread: &[f64]) -> Result<Vec<f64>, MethodError> {
    let total: f64 = spread.iter().sum();
    if total.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) || !total.is_finite() {
        return Err(MethodError::NoInformation);
    }
    Ok(spread.iter().map(|d| d / total).collect())
}

mod aggregate;
mod impute;
mod normalise;
mod outliers;
mod weights;

pub use aggregate::*;
pub use impute::*;
pub use normalise::*;
pub use outliers::*;
pub use weights::*;

/// Helpers of the kernels' unit tests.
#[cfg(test)]
pub(crate) mod testing {

    pub fn col(v: &[f64]) -> Vec<Option<f64>> {
        v.iter().map(|x| Some(*x)).collect()
    }

    pub fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12 * (1.0 + b.abs())
    }

    pub fn all_close(got: &[Option<f64>], want: &[Option<f64>]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            match (g, w) {
                (Some(g), Some(w)) => assert!(close(*g, *w), "{g} vs {w}"),
                (None, None) => {}
                _ => panic!("{got:?} vs {want:?}"),
            }
        }
    }
}
