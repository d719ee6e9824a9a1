//! The store's records that stages after ingest read: the input files (sources) and the counties
//! of the evaluation that sent nothing for a year (未报送).

crate::table! {
    /// One input file as read: the store's `sources` table.
    pub struct SourceInfo in "sources" {
        file: String,
        sha256: String,
        bytes: u64,
        format: String,
        layout: String,
        revision: bool,
        /// The file says it holds synthetic data (示例数据 in a title or note row); reports then carry a notice.
        synthetic: bool,
        observations: u64,
    }
}

crate::table! {
    /// A county of the evaluation that sent no data for a year (未报送): the store's `missing` table.
    pub struct MissingRow in "missing" {
        region_code: String,
        year: i32,
        region_name: String,
        prefecture_code: String,
        prefecture_name: String,
    }
}
