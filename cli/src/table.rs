//! Plain-text tables: a header in capitals, columns two spaces apart,
//! numbers right-aligned, no trailing spaces (so output diffs cleanly and
//! greps well).

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    /// Text, flush left.
    Left,
    /// Numbers, flush right.
    Right,
}

/// A table being filled, then rendered.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    /// Each column's title and alignment.
    columns: Vec<(String, Align)>,
    /// The rows, one cell per column.
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns (title, alignment).
    pub(crate) fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            columns: columns
                .iter()
                .map(|(title, align)| ((*title).to_owned(), *align))
                .collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are blank, extra cells are dropped.
    pub(crate) fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut row: Vec<String> = cells.into_iter().map(Into::into).collect();
        row.resize(self.columns.len(), String::new());
        self.rows.push(row);
    }

    /// The table as text, one line per row after the header, each ending
    /// with a line break.
    pub(crate) fn render(&self) -> String {
        let width = |text: &str| text.chars().count();
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|column| {
                self.rows
                    .iter()
                    .map(|row| width(&row[column]))
                    .chain([width(&self.columns[column].0)])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let titles: Vec<String> = self.columns.iter().map(|(t, _)| t.clone()).collect();
        let mut out = String::new();
        for row in [&titles].into_iter().chain(&self.rows) {
            let mut line = String::new();
            for (column, cell) in row.iter().enumerate() {
                if column > 0 {
                    line.push_str("  ");
                }
                let pad = " ".repeat(widths[column] - width(cell));
                match self.columns[column].1 {
                    Align::Left => line.push_str(&format!("{cell}{pad}")),
                    Align::Right => line.push_str(&format!("{pad}{cell}")),
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_and_numbers_align_right() {
        let mut table = Table::new(&[("NAME", Align::Left), ("CALLS", Align::Right)]);
        table.row(["math.Math/Sum", "3"]);
        table.row(["b", "1204"]);
        assert_eq!(
            table.render(),
            "NAME           CALLS\n\
             math.Math/Sum      3\n\
             b               1204\n"
        );
    }

    #[test]
    fn rows_have_no_trailing_spaces() {
        let mut table = Table::new(&[("A", Align::Left), ("B", Align::Left)]);
        table.row(["long cell", ""]);
        table.row(["x"]);
        assert_eq!(table.render(), "A          B\nlong cell\nx\n");
    }
}
