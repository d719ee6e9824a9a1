//! The font files each typst process is given: the configured fonts, with every collection
//! (`.ttc`) cut down to the faces of the families the templates name. A Noto CJK collection
//! holds ten faces (JP, KR, SC, TC, HK, and their Mono variants); Typst reads the metadata and
//! character coverage of every face it is given, in every one of thousands of processes, so four
//! single-face files instead of four collections save a third of a county report's time.

use std::fs;
use std::path::{Path, PathBuf};

/// A face cut out of a collection: a standalone OpenType file with the face's own tables.
fn extract_face(ttc: &[u8], index: usize) -> Option<Vec<u8>> {
    let u32_at = |o: usize| ttc.get(o..o + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let u16_at = |o: usize| ttc.get(o..o + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let dir = u32_at(12 + 4 * index)? as usize;
    let num_tables = u16_at(dir + 4)? as usize;
    let mut records = Vec::with_capacity(num_tables);
    for t in 0..num_tables {
        let r = dir + 12 + 16 * t;
        let tag = ttc.get(r..r + 4)?;
        let (checksum, offset, length) = (u32_at(r + 4)?, u32_at(r + 8)? as usize, u32_at(r + 12)? as usize);
        ttc.get(offset..offset + length)?;
        records.push((tag, checksum, offset, length));
    }
    // Header and table directory as in the collection (sfnt version, binary-search fields), then
    // the tables, each 4-byte aligned as the format requires.
    let mut out = Vec::new();
    out.extend_from_slice(ttc.get(dir..dir + 12)?);
    let mut at = 12 + 16 * num_tables;
    for &(tag, checksum, _, length) in &records {
        out.extend_from_slice(tag);
        out.extend_from_slice(&checksum.to_be_bytes());
        out.extend_from_slice(&(at as u32).to_be_bytes());
        out.extend_from_slice(&(length as u32).to_be_bytes());
        at += length.div_ceil(4) * 4;
    }
    for &(_, _, offset, length) in &records {
        out.extend_from_slice(&ttc[offset..offset + length]);
        out.resize(out.len().div_ceil(4) * 4, 0);
    }
    Some(out)
}

/// The family names of a face in a collection (typographic family, else family; Windows
/// Unicode records), from its `name` table.
fn families(ttc: &[u8], index: usize) -> Vec<String> {
    let u32_at = |o: usize| ttc.get(o..o + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let u16_at = |o: usize| ttc.get(o..o + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let out = Vec::new();
    let Some(dir) = u32_at(12 + 4 * index).map(|d| d as usize) else { return out };
    let n = u16_at(dir + 4).unwrap_or(0) as usize;
    let Some(name) = (0..n).map(|t| dir + 12 + 16 * t).find(|&r| ttc.get(r..r + 4) == Some(b"name")) else {
        return out;
    };
    let Some(base) = u32_at(name + 8).map(|o| o as usize) else { return out };
    ttc.get(base..).map(name_families).unwrap_or(out)
}

/// The family names in a `name` table (typographic family, else family; Windows Unicode records).
fn name_families(table: &[u8]) -> Vec<String> {
    let u16_at = |o: usize| table.get(o..o + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let mut out = Vec::new();
    let (count, strings) = (u16_at(2).unwrap_or(0) as usize, u16_at(4).unwrap_or(0) as usize);
    for i in 0..count {
        let r = 6 + 12 * i;
        let (Some(platform), Some(id), Some(len), Some(off)) =
            (u16_at(r), u16_at(r + 6), u16_at(r + 8), u16_at(r + 10))
        else {
            continue;
        };
        if platform != 3 || !(id == 1 || id == 16) {
            continue;
        }
        let start = strings + off as usize;
        let Some(bytes) = table.get(start..start + len as usize) else { continue };
        let units: Vec<u16> = bytes.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        out.push(String::from_utf16_lossy(&units));
    }
    out
}

fn is_collection(bytes: &[u8]) -> bool {
    bytes.starts_with(b"ttcf")
}

/// Every font file under the configured directories (recursively, as Typst searches them),
/// sorted, with its metadata.
fn font_files_in(dirs: &[PathBuf]) -> Vec<(PathBuf, fs::Metadata)> {
    let mut out: Vec<(PathBuf, fs::Metadata)> = dirs
        .iter()
        .flat_map(|d| font_files(d))
        .filter(|(p, _)| {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
            matches!(ext.as_str(), "ttf" | "otf" | "ttc" | "otc")
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The font directory to give Typst for `dirs`: the collections' faces whose family `wanted`
/// names (the templates' text) as single files, and every other font file as a link, in a
/// directory under `cache` named by a hash of the sources. Built once, then reused; another
/// font or template set gets another directory.
pub fn prepare(dirs: &[PathBuf], wanted: &str, cache: &Path) -> std::io::Result<PathBuf> {
    let files = font_files_in(dirs);
    let mut key: String = files.iter().map(|(p, m)| stamp(p, m) + "\n").collect();
    key.push_str(wanted);
    let hash = crate::text::sha256_hex(key.as_bytes());
    let dir = cache.join(format!("fonts-{}", &hash[..16]));
    if dir.join("READY").is_file() {
        return Ok(dir);
    }
    // Built beside its final place and renamed into it, so a concurrent run never sees half.
    fs::create_dir_all(cache)?;
    let tmp = cache.join(format!(".fonts-{}-{}", std::process::id(), &hash[..16]));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp)?;
    for (n, (f, _)) in files.iter().enumerate() {
        let bytes = fs::read(f)?;
        let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or("font");
        if !is_collection(&bytes) {
            std::os::unix::fs::symlink(
                fs::canonicalize(f)?,
                tmp.join(format!("{n:03}-{}", f.file_name().unwrap().to_string_lossy())),
            )?;
            continue;
        }
        let faces = u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
        for i in 0..faces {
            if !families(&bytes, i).iter().any(|fam| wanted.contains(&format!("\"{fam}\""))) {
                continue;
            }
            if let Some(face) = extract_face(&bytes, i) {
                fs::write(tmp.join(format!("{n:03}-{stem}-{i}.otf")), face)?;
            }
        }
    }
    fs::write(tmp.join("READY"), key)?;
    match fs::rename(&tmp, &dir) {
        Ok(()) => Ok(dir),
        // Another run built it first.
        Err(_) if dir.join("READY").is_file() => {
            let _ = fs::remove_dir_all(&tmp);
            Ok(dir)
        }
        Err(e) => Err(e),
    }
}

/// Fonts typst-cli carries in itself (its `embedded-fonts` feature), found without any font path.
const EMBEDDED: [&str; 4] = ["DejaVu Sans Mono", "Libertinus Serif", "New Computer Modern", "New Computer Modern Math"];

/// The font families the templates name: `font: "…"`, and the `#let serif = ("…", …)` lists.
pub fn named_families(templates: &str) -> Vec<String> {
    let quoted = |s: &str| -> Vec<String> { s.split('"').skip(1).step_by(2).map(str::to_string).collect() };
    let mut out = Vec::new();
    for line in templates.lines() {
        let t = line.trim_start().trim_start_matches('#');
        if let Some(list) = ["let serif", "let sans", "let mono"].iter().find_map(|l| t.strip_prefix(l)) {
            out.extend(
                list.split_once('(').and_then(|(_, r)| r.split_once(')')).map(|(l, _)| quoted(l)).unwrap_or_default(),
            );
        }
        for (at, _) in line.match_indices("font: \"") {
            out.extend(line[at + 6..].split('"').nth(1).map(str::to_string));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The families of every face in a font file (one face, or a collection), read from its `name`
/// tables with a few small reads, not the whole file.
pub fn file_families(path: &Path) -> std::io::Result<Vec<String>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = fs::File::open(path)?;
    let mut at = |offset: u64, len: usize| -> std::io::Result<Vec<u8>> {
        let mut buf = vec![0; len];
        f.seek(SeekFrom::Start(offset))?;
        f.read_exact(&mut buf)?;
        Ok(buf)
    };
    let be32 = |b: &[u8], o: usize| u32::from_be_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let be16 = |b: &[u8], o: usize| u16::from_be_bytes([b[o], b[o + 1]]);
    let head = at(0, 12)?;
    let dirs: Vec<u64> = if &head[..4] == b"ttcf" {
        let n = be32(&head, 8) as usize;
        let offsets = at(12, 4 * n.min(64))?;
        (0..n.min(64)).map(|i| u64::from(be32(&offsets, 4 * i))).collect()
    } else {
        vec![0]
    };
    let mut out = Vec::new();
    for dir in dirs {
        let d = at(dir, 12)?;
        let tables = at(dir + 12, 16 * usize::from(be16(&d, 4)))?;
        let Some(rec) = tables.chunks_exact(16).find(|r| &r[..4] == b"name") else { continue };
        out.extend(name_families(&at(u64::from(be32(rec, 8)), be32(rec, 12) as usize)?));
    }
    Ok(out)
}

/// The families the templates name that no font under `dirs` (nor typst itself) holds.
pub fn missing_families(dirs: &[PathBuf], templates: &str) -> Vec<String> {
    let mut found: std::collections::BTreeSet<String> = EMBEDDED.iter().map(|s| s.to_string()).collect();
    for (path, _) in font_files_in(dirs) {
        found.extend(file_families(&path).unwrap_or_default());
    }
    named_families(templates).into_iter().filter(|f| !found.contains(f)).collect()
}

/// A font file as the fingerprints know it: path, size and modification time.
pub fn stamp(path: &Path, meta: &std::fs::Metadata) -> String {
    let mtime = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    format!("{}:{}:{}", path.display(), meta.len(), mtime.map_or(0, |t| t.as_nanos()))
}

/// Every file under a font directory (Typst searches font paths recursively).
pub fn font_files(dir: &Path) -> Vec<(PathBuf, std::fs::Metadata)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                out.push((e.path(), meta));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A collection of two faces sharing one table, by hand: each extracted face keeps its own
    /// name and the shared table's bytes.
    #[test]
    fn a_face_cut_from_a_collection_keeps_its_tables() {
        fn name_table(family: &str) -> Vec<u8> {
            let s: Vec<u8> = family.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
            let mut t = vec![0, 0, 0, 1, 0, 18]; // format 0, one record, strings at 18
            for v in [3u16, 1, 0x409, 1, s.len() as u16, 0] {
                t.extend_from_slice(&v.to_be_bytes());
            }
            t.extend_from_slice(&s);
            t
        }
        let shared = b"glyf-data-shared".to_vec();
        let names = [name_table("Noto Sans CJK JP"), name_table("Noto Sans CJK SC")];
        // Layout: header (12 + 2×4), two directories (12 + 2×16 each), then the tables.
        let dirs_at = 20;
        let data_at = dirs_at + 2 * (12 + 32);
        let mut tables = shared.clone();
        let shared_off = data_at;
        let mut name_offs = Vec::new();
        for n in &names {
            tables.resize(tables.len().div_ceil(4) * 4, 0);
            name_offs.push(data_at + tables.len());
            tables.extend_from_slice(n);
        }
        let mut ttc = b"ttcf".to_vec();
        ttc.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 2]);
        for i in 0..2u32 {
            ttc.extend_from_slice(&(dirs_at as u32 + i * 44).to_be_bytes());
        }
        for i in 0..2 {
            ttc.extend_from_slice(&[0x4F, 0x54, 0x54, 0x4F, 0, 2, 0, 32, 0, 1, 0, 0]);
            for (tag, off, len) in [(b"glyf", shared_off, shared.len()), (b"name", name_offs[i], names[i].len())] {
                ttc.extend_from_slice(tag);
                ttc.extend_from_slice(&0u32.to_be_bytes());
                ttc.extend_from_slice(&(off as u32).to_be_bytes());
                ttc.extend_from_slice(&(len as u32).to_be_bytes());
            }
        }
        ttc.extend_from_slice(&tables);
        assert_eq!(families(&ttc, 0), ["Noto Sans CJK JP"]);
        assert_eq!(families(&ttc, 1), ["Noto Sans CJK SC"]);
        let face = extract_face(&ttc, 1).unwrap();
        assert_eq!(&face[..4], b"OTTO");
        // Its glyf table is the shared bytes at the offset its directory now says.
        let off = u32::from_be_bytes(face[20..24].try_into().unwrap()) as usize;
        assert_eq!(&face[off..off + shared.len()], &shared[..]);
        // And its name table reads back as the SC face's, as a one-face collection would.
        let mut as_ttc = b"ttcf\0\x01\0\0\0\0\0\x01\0\0\0\x10".to_vec();
        let shift = as_ttc.len();
        let mut moved = face.clone();
        for t in 0..2 {
            let r = 12 + 16 * t + 8;
            let o = u32::from_be_bytes(moved[r..r + 4].try_into().unwrap()) + shift as u32;
            moved[r..r + 4].copy_from_slice(&o.to_be_bytes());
        }
        as_ttc.extend_from_slice(&moved);
        assert_eq!(families(&as_ttc, 0), ["Noto Sans CJK SC"]);
    }

    /// The real Noto collections, when installed: the SC faces only, and Typst-readable files.
    #[test]
    fn the_noto_collections_give_their_sc_faces() {
        let noto = Path::new("/usr/share/fonts/opentype/noto");
        if !noto.join("NotoSansCJK-Regular.ttc").is_file() {
            eprintln!("skipped: fonts-noto-cjk not installed");
            return;
        }
        let cache = tempfile::tempdir().unwrap();
        let wanted = r#"#let sans = ("Noto Sans CJK SC",)"#;
        let dir = prepare(&[noto.to_path_buf()], wanted, cache.path()).unwrap();
        let mut names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".otf"))
            .collect();
        names.sort();
        assert_eq!(names.len(), 2, "{names:?}"); // regular and bold
        assert!(names.iter().all(|n| n.contains("NotoSansCJK")), "{names:?}");
        // Built once: the second call finds it.
        assert_eq!(prepare(&[noto.to_path_buf()], wanted, cache.path()).unwrap(), dir);
    }
}
