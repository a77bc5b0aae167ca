//! Plain-text tables for the `--format table` outputs.
//!
//! Cells often hold what a plugin wrote (titles, notes, errors): every cell has its control
//! characters escaped so a title cannot clear the operator's screen, retitle the terminal or
//! forge rows. JSON output is never passed through here and stays exact.

pub use crate::text::escape_controls as clean;

pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| clean(c).into_owned()).collect())
        .collect();
    let rows = &rows;
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let last = cells.len().saturating_sub(1);
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if i < last {
                let pad = widths[i].saturating_sub(cell.chars().count()) + 2;
                out.push_str(&" ".repeat(pad));
            }
        }
        out.push('\n');
    };
    line(headers.to_vec(), &mut out);
    for row in rows {
        line(row.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn aligns_columns() {
        let t = super::table(&["A", "BB"], &[vec!["xyz".into(), "1".into()]]);
        assert_eq!(t, "A    BB\nxyz  1\n");
    }

    #[test]
    fn cells_cannot_drive_the_terminal() {
        let t = super::table(&["T"], &[vec!["\x1b]0;pwned\x07\x1b[2Jx\nFORGED".into()]]);
        assert_eq!(t, "T\n\\u{1b}]0;pwned\\u{7}\\u{1b}[2Jx\\nFORGED\n");
        assert!(!t.contains('\x1b'));
    }
}
