//! How `top` draws its model: on a terminal with ratatui (a header, the
//! bus's requests per second as a sparkline, a table of methods, the keys),
//! or as plain text for `--once`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row as TableRow, Sparkline, Table as TableWidget};

use super::model::{HISTORY, Model, Row, sparkline};
use crate::human;
use crate::sample::{codes, per_second, percent};
use crate::table::{Align, Table};

/// The columns: title, alignment, width on a terminal (the method's and
/// the last error's are set by what they hold). `P50` and `P99` are
/// handling times, `CALL P99` the whole call as callers waited for it.
const COLUMNS: [(&str, Align, u16); 13] = [
    ("METHOD", Align::Left, 28),
    ("REQ/S", Align::Right, 7),
    ("RUNS/S", Align::Right, 7),
    ("ERR/S", Align::Right, 6),
    ("HIT%", Align::Right, 5),
    ("P50", Align::Right, 6),
    ("P99", Align::Right, 6),
    ("CALL P99", Align::Right, 8),
    ("INST", Align::Right, 4),
    ("QUEUE", Align::Right, 5),
    ("REQ/S HISTORY", Align::Left, 13),
    ("ERROR CODES", Align::Left, 20),
    ("LAST ERROR", Align::Left, 30),
];

/// Where the history column is.
const HISTORY_COLUMN: usize = 10;

/// What the keys do, at the foot of the screen.
const KEYS: &str = "q quit  s/S sort  r reverse  / filter  c clear filter";

/// The line above the table: the bus, what is live, the order.
fn header(bus: &str, model: &Model) -> String {
    let total: f64 = model.total().last().copied().unwrap_or(0.0);
    let mut line = format!(
        "bus {bus:?}: {}, {}, {} requests/s; sorted by {}{}",
        human::count(model.rows().len() as u64, "method", "methods"),
        human::count(
            model.live_instances() as u64,
            "live instance",
            "live instances"
        ),
        per_second(total),
        model.sort.label(),
        if model.reversed { " (reversed)" } else { "" },
    );
    if !model.filter.is_empty() || model.editing {
        line.push_str(&format!("; filter: {}", model.filter));
        if model.editing {
            line.push('_');
        }
    }
    line
}

/// One row's cells; `history` keeps the last values that fit.
fn cells(row: &Row, history: usize) -> [String; 13] {
    let start = row.history.len().saturating_sub(history);
    [
        row.rate.method.clone(),
        per_second(row.rate.requests),
        per_second(row.rate.runs),
        per_second(row.rate.errors),
        percent(row.rate.hit_ratio),
        row.p50.clone(),
        row.p99.clone(),
        row.call_p99.clone(),
        row.rate.instances.to_string(),
        row.rate.queued.to_string(),
        sparkline(&row.history[start..]),
        codes(&row.rate.window.errors_by_code),
        row.rate.last_error.clone().unwrap_or_default(),
    ]
}

/// The frame as plain text, for `--once` and scripts.
pub(crate) fn plain(bus: &str, model: &Model) -> String {
    let columns: Vec<(&str, Align)> = COLUMNS.iter().map(|(t, a, _)| (*t, *a)).collect();
    let mut table = Table::new(&columns);
    for row in model.rows() {
        table.row(cells(row, HISTORY));
    }
    format!("{}\n{}", header(bus, model), table.render())
}

/// Draws the frame on the terminal.
pub(crate) fn draw(frame: &mut Frame<'_>, bus: &str, model: &Model) {
    let [top, spark, body, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(Paragraph::new(header(bus, model)), top);
    let total: Vec<u64> = model.total().iter().map(|v| v.round() as u64).collect();
    let width = usize::from(spark.width);
    let shown = &total[total.len().saturating_sub(width)..];
    frame.render_widget(
        Sparkline::default()
            .block(Block::new().title(Line::from("requests/s, the whole bus")))
            .data(shown),
        spark,
    );
    let history = usize::from(COLUMNS[HISTORY_COLUMN].2);
    let rows: Vec<TableRow<'_>> = model
        .rows()
        .into_iter()
        .map(|row| TableRow::new(aligned(cells(row, history))))
        .collect();
    let titles = TableRow::new(aligned(COLUMNS.map(|(title, _, _)| title.to_owned())))
        .style(Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED));
    let longest = model
        .rows()
        .iter()
        .map(|row| row.rate.method.chars().count())
        .max()
        .unwrap_or(0);
    let mut widths = COLUMNS.map(|(_, _, width)| Constraint::Length(width));
    widths[0] = Constraint::Length(longest.clamp(6, 60) as u16);
    widths[COLUMNS.len() - 1] = Constraint::Fill(1);
    let waiting = if model.ready() {
        ""
    } else {
        "the first rates come after one interval"
    };
    frame.render_widget(
        TableWidget::new(rows, widths)
            .header(titles)
            .block(Block::new().title(Line::from(waiting))),
        body,
    );
    frame.render_widget(Paragraph::new(KEYS), foot);
}

/// Cells lined up as their columns say.
fn aligned(cells: [String; 13]) -> Vec<Cell<'static>> {
    cells
        .into_iter()
        .zip(COLUMNS)
        .map(|(text, (_, align, _))| {
            let line = Line::from(text);
            Cell::from(match align {
                Align::Left => line.left_aligned(),
                Align::Right => line.right_aligned(),
            })
        })
        .collect()
}
