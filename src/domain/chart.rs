//! Geometry of the dashboard's bar charts, drawn as inline SVG by the templates: where each
//! bar goes and how tall it is. Pure numbers; the template adds text and classes.
//!
//! Coordinates are in the SVG's user units (the `viewBox`); the browser scales the drawing
//! to the page width.

/// A rectangle in user units, rounded to a tenth so the markup stays short.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    fn new(x: f64, y: f64, w: f64, h: f64) -> Self {
        Self { x: tenth(x), y: tenth(y), w: tenth(w), h: tenth(h) }
    }
}

fn tenth(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The top of the value axis: the smallest of 1, 2, 5 × 10ⁿ that is at least `max` (at
/// least 1, so an empty chart still has an axis).
pub fn nice_max(max: i64) -> i64 {
    let max = max.max(1);
    let mut step = 1i64;
    loop {
        for m in [1, 2, 5] {
            if m * step >= max {
                return m * step;
            }
        }
        step *= 10;
    }
}

/// A horizontal grid line with its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub value: i64,
    pub y: f64,
}

/// One segment of a stacked column: one series' value in one column.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub series: usize,
    pub value: i64,
    pub rect: Rect,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub segments: Vec<Segment>,
    pub total: i64,
    /// Where the column's label (below) and total (above) are centred.
    pub center_x: f64,
    pub top_y: f64,
}

/// Stacked columns, one per period, series stacked bottom up in the order given.
#[derive(Debug, Clone, PartialEq)]
pub struct StackedColumns {
    pub width: f64,
    pub height: f64,
    pub plot_left: f64,
    pub plot_right: f64,
    pub baseline: f64,
    pub label_y: f64,
    pub max: i64,
    pub ticks: Vec<Tick>,
    pub columns: Vec<Column>,
}

pub const COLUMNS_WIDTH: f64 = 640.0;
pub const COLUMNS_HEIGHT: f64 = 260.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 30.0;

/// Lays out `values[column][series]` as stacked columns. Every segment is present, a zero
/// one with height 0, so each figure has its element.
pub fn stacked_columns(values: &[Vec<i64>]) -> StackedColumns {
    let plot_left = LEFT;
    let plot_right = COLUMNS_WIDTH - RIGHT;
    let baseline = COLUMNS_HEIGHT - BOTTOM;
    let plot_h = baseline - TOP;
    let max = nice_max(values.iter().map(|c| c.iter().map(|v| (*v).max(0)).sum()).max().unwrap_or(0));
    let scale = plot_h / max as f64;
    let slot = (plot_right - plot_left) / values.len().max(1) as f64;
    let bar_w = slot * 0.6;
    let columns = values
        .iter()
        .enumerate()
        .map(|(i, series)| {
            let x = plot_left + slot * i as f64 + (slot - bar_w) / 2.0;
            let mut y = baseline;
            let segments = series
                .iter()
                .enumerate()
                .map(|(s, v)| {
                    let h = (*v).max(0) as f64 * scale;
                    y -= h;
                    Segment { series: s, value: *v, rect: Rect::new(x, y, bar_w, h) }
                })
                .collect();
            Column { segments, total: series.iter().sum(), center_x: tenth(x + bar_w / 2.0), top_y: tenth(y - 6.0) }
        })
        .collect();
    let mut tick_values = vec![0];
    if max % 2 == 0 {
        tick_values.push(max / 2);
    }
    tick_values.push(max);
    let ticks = tick_values.into_iter().map(|v| Tick { value: v, y: tenth(baseline - v as f64 * scale) }).collect();
    StackedColumns {
        width: COLUMNS_WIDTH,
        height: COLUMNS_HEIGHT,
        plot_left,
        plot_right,
        baseline,
        label_y: COLUMNS_HEIGHT - 10.0,
        max,
        ticks,
        columns,
    }
}

/// One row of a horizontal bar chart.
#[derive(Debug, Clone, PartialEq)]
pub struct HBar {
    pub value: i64,
    pub rect: Rect,
    /// Baseline of the row's texts.
    pub text_y: f64,
    /// Where the value is written, just after the bar.
    pub value_x: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HorizontalBars {
    pub width: f64,
    pub height: f64,
    /// Labels end here (right-aligned); bars start here.
    pub label_x: f64,
    pub bar_left: f64,
    pub max: i64,
    pub bars: Vec<HBar>,
}

pub const BARS_WIDTH: f64 = 640.0;
const ROW: f64 = 28.0;
const BAR_LEFT: f64 = 200.0;
const VALUE_ROOM: f64 = 56.0;

/// One bar per value, top to bottom; the drawing grows with the number of rows.
pub fn horizontal_bars(values: &[i64]) -> HorizontalBars {
    let max = nice_max(values.iter().copied().max().unwrap_or(0));
    let room = BARS_WIDTH - BAR_LEFT - VALUE_ROOM;
    let bars = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let y = 8.0 + ROW * i as f64;
            let w = (*v).max(0) as f64 * room / max as f64;
            HBar {
                value: *v,
                rect: Rect::new(BAR_LEFT, y, w, ROW - 10.0),
                text_y: tenth(y + ROW / 2.0),
                value_x: tenth(BAR_LEFT + w + 6.0),
            }
        })
        .collect();
    HorizontalBars {
        width: BARS_WIDTH,
        height: 16.0 + ROW * values.len().max(1) as f64,
        label_x: BAR_LEFT - 8.0,
        bar_left: BAR_LEFT,
        max,
        bars,
    }
}

/// A label that fits beside the bars: at most `max` characters, with an ellipsis when cut.
pub fn short_label(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_top_is_a_round_number_at_least_the_maximum() {
        assert_eq!(nice_max(0), 1);
        assert_eq!(nice_max(1), 1);
        assert_eq!(nice_max(3), 5);
        assert_eq!(nice_max(7), 10);
        assert_eq!(nice_max(10), 10);
        assert_eq!(nice_max(11), 20);
        assert_eq!(nice_max(240), 500);
    }

    #[test]
    fn stacked_segments_sit_on_each_other_and_scale_to_the_axis() {
        let c = stacked_columns(&[vec![2, 1, 0], vec![5, 3, 2], vec![0, 0, 0]]);
        assert_eq!(c.max, 10);
        assert_eq!(c.columns.len(), 3);
        let plot_h = c.baseline - TOP;
        let col = &c.columns[1];
        assert_eq!(col.total, 10);
        // The tallest column fills the plot.
        let top = col.segments.last().unwrap().rect.y;
        assert!((top - TOP).abs() < 0.2, "{top}");
        // Each segment starts where the one below ends, with its share of the height.
        let mut bottom = c.baseline;
        for s in &col.segments {
            assert!((s.rect.y + s.rect.h - bottom).abs() < 0.2);
            assert!((s.rect.h - s.value as f64 * plot_h / 10.0).abs() < 0.2);
            bottom = s.rect.y;
        }
        // An empty column keeps its (zero-height) segments.
        assert!(c.columns[2].segments.iter().all(|s| s.rect.h == 0.0 && s.rect.y == c.baseline));
        // Columns do not overlap and stay in the plot.
        for pair in c.columns.windows(2) {
            assert!(pair[0].segments[0].rect.x + pair[0].segments[0].rect.w < pair[1].segments[0].rect.x);
        }
        let last = &c.columns[2].segments[0].rect;
        assert!(last.x + last.w <= c.plot_right);
        assert_eq!(c.ticks.iter().map(|t| t.value).collect::<Vec<_>>(), [0, 5, 10]);
        assert_eq!(c.ticks[0].y, c.baseline);
    }

    #[test]
    fn an_empty_chart_has_an_axis_and_no_columns() {
        let c = stacked_columns(&[]);
        assert_eq!(c.max, 1);
        assert!(c.columns.is_empty());
        assert_eq!(c.ticks.iter().map(|t| t.value).collect::<Vec<_>>(), [0, 1]);
    }

    #[test]
    fn horizontal_bars_are_proportional_and_one_row_each() {
        let b = horizontal_bars(&[4, 0, 10]);
        assert_eq!(b.max, 10);
        let room = BARS_WIDTH - BAR_LEFT - VALUE_ROOM;
        assert!((b.bars[2].rect.w - room).abs() < 0.2);
        assert!((b.bars[0].rect.w - room * 0.4).abs() < 0.2);
        assert_eq!(b.bars[1].rect.w, 0.0);
        assert!(b.bars.windows(2).all(|p| p[0].rect.y + p[0].rect.h < p[1].rect.y));
        assert!(b.height >= b.bars[2].rect.y + b.bars[2].rect.h);
        assert!(b.bars.iter().all(|r| r.rect.x == b.bar_left));
    }

    #[test]
    fn long_labels_are_cut_with_an_ellipsis() {
        assert_eq!(short_label("Centro", 10), "Centro");
        assert_eq!(short_label("Barrio Chacra Once Norte", 10), "Barrio Ch…");
        assert_eq!(short_label("Ñandú Ñandú", 6), "Ñandú…");
    }
}
