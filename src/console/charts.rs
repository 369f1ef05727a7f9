//! Charts drawn on the server as SVG (plotters' SVG backend): readable
//! without JavaScript, inlined in the page, each with a `<title>` and a
//! `<desc>` for screen readers — and every page that shows one also shows
//! its numbers in a table. Colours are the Okabe–Ito palette (told apart by
//! colour-blind readers too); the legend is HTML beside the chart.

use plotters::prelude::*;

/// The palette, in series order.
pub(crate) const PALETTE: [(u8, u8, u8); 7] = [
    (0, 114, 178),
    (230, 159, 0),
    (0, 158, 115),
    (213, 94, 0),
    (204, 121, 167),
    (86, 180, 233),
    (90, 90, 90),
];

/// One series of a chart.
pub(crate) struct Series {
    /// Its name (the legend's words).
    pub label: String,
    /// One value per category (or point); `None` where there is none.
    pub values: Vec<Option<f64>>,
}

/// A chart ready for a page: its SVG, and the legend's entries (name and
/// palette index, for the `sw-N` swatch classes of the stylesheet).
pub(crate) struct Chart {
    /// Its title (also the SVG's `<title>`), shown above it.
    pub title: String,
    /// The `<svg>` element.
    pub svg: String,
    /// (label, palette index) per series.
    pub legend: Vec<(String, usize)>,
}

fn colour(i: usize) -> RGBColor {
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    RGBColor(r, g, b)
}

/// Makes the SVG scale with its box and speak to screen readers.
fn accessible(svg: String, id: &str, title: &str, desc: &str) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let Some(open_end) = svg.find('>') else {
        return svg;
    };
    let open = &svg[..open_end];
    let (w, h) = (attr(open, "width"), attr(open, "height"));
    let rest = &svg[open_end + 1..];
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-t {id}-d"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>{rest}"#,
        esc(title),
        esc(desc)
    )
}

fn attr<'a>(tag: &'a str, name: &str) -> &'a str {
    tag.find(&format!("{name}=\""))
        .map(|i| {
            let v = &tag[i + name.len() + 2..];
            &v[..v.find('"').unwrap_or(0)]
        })
        .unwrap_or("0")
}

fn max_of(values: impl Iterator<Item = f64>) -> f64 {
    let m = values.fold(0.0_f64, f64::max);
    if m <= 0.0 { 1.0 } else { m * 1.08 }
}

/// Bars per category, the series stacked on each other.
pub(crate) fn stacked_bars(
    id: &str,
    title: &str,
    desc: &str,
    categories: &[String],
    series: &[Series],
    y_format: &dyn Fn(f64) -> String,
) -> Chart {
    let n = categories.len().max(1);
    let totals: Vec<f64> = (0..n)
        .map(|i| {
            series
                .iter()
                .map(|s| s.values.get(i).copied().flatten().unwrap_or(0.0))
                .sum()
        })
        .collect();
    let top = max_of(totals.iter().copied());
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (760, 320)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let built = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(72)
            .build_cartesian_2d(-0.5..(n as f64 - 0.5), 0.0..top);
        if let Ok(mut chart) = built {
            let labels = categories.to_vec();
            let _ = chart
                .configure_mesh()
                .disable_x_mesh()
                .light_line_style(TRANSPARENT)
                .bold_line_style(RGBColor(214, 220, 229))
                .y_labels(6)
                .x_labels(n + 1)
                .x_label_formatter(&|v| {
                    let i = v.round();
                    if (v - i).abs() < 1e-6 && i >= 0.0 {
                        labels.get(i as usize).cloned().unwrap_or_default()
                    } else {
                        String::new()
                    }
                })
                .y_label_formatter(&|v| y_format(*v))
                .label_style(("sans-serif", 16))
                .draw();
            let mut base = vec![0.0; n];
            for (si, s) in series.iter().enumerate() {
                let rects: Vec<Rectangle<(f64, f64)>> = (0..n)
                    .filter_map(|i| {
                        let v = s.values.get(i).copied().flatten().unwrap_or(0.0);
                        (v > 0.0).then(|| {
                            let x = i as f64;
                            let r = Rectangle::new(
                                [(x - 0.38, base[i]), (x + 0.38, base[i] + v)],
                                colour(si).filled(),
                            );
                            base[i] += v;
                            r
                        })
                    })
                    .collect();
                let _ = chart.draw_series(rects);
            }
        }
        let _ = root.present();
    }
    Chart {
        title: title.to_owned(),
        svg: accessible(buf, id, title, desc),
        legend: series
            .iter()
            .enumerate()
            .map(|(i, s)| (s.label.clone(), i))
            .collect(),
    }
}

/// Lines over labelled points (months, ...); a series may have gaps.
pub(crate) fn lines(
    id: &str,
    title: &str,
    desc: &str,
    points: &[String],
    series: &[Series],
    y_range: Option<(f64, f64)>,
    y_format: &dyn Fn(f64) -> String,
) -> Chart {
    let n = points.len().max(1);
    let (lo, hi) = y_range.unwrap_or_else(|| {
        let vals = series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied());
        let (mut lo, mut hi) = (0.0_f64, 0.0_f64);
        for v in vals {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if hi <= lo {
            hi = lo + 1.0;
        }
        (lo * 1.08, hi * 1.08)
    });
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (760, 300)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let built = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(72)
            .build_cartesian_2d(-0.5..(n as f64 - 0.5), lo..hi);
        if let Ok(mut chart) = built {
            let labels = points.to_vec();
            let _ = chart
                .configure_mesh()
                .light_line_style(TRANSPARENT)
                .bold_line_style(RGBColor(214, 220, 229))
                .y_labels(6)
                .x_labels(n.min(12))
                .x_label_formatter(&|v| {
                    let i = v.round();
                    if (v - i).abs() < 1e-6 && i >= 0.0 {
                        labels.get(i as usize).cloned().unwrap_or_default()
                    } else {
                        String::new()
                    }
                })
                .y_label_formatter(&|v| y_format(*v))
                .label_style(("sans-serif", 16))
                .draw();
            for (si, s) in series.iter().enumerate() {
                let c = colour(si);
                // Each run of consecutive points is one line.
                let mut run: Vec<(f64, f64)> = Vec::new();
                let mut runs = Vec::new();
                for (i, v) in s.values.iter().enumerate() {
                    match v {
                        Some(v) => run.push((i as f64, *v)),
                        None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
                        None => {}
                    }
                }
                if !run.is_empty() {
                    runs.push(run);
                }
                for r in runs {
                    let _ = chart.draw_series(LineSeries::new(r.clone(), c.stroke_width(3)));
                    let _ = chart.draw_series(r.into_iter().map(|p| Circle::new(p, 4, c.filled())));
                }
            }
        }
        let _ = root.present();
    }
    Chart {
        title: title.to_owned(),
        svg: accessible(buf, id, title, desc),
        legend: series
            .iter()
            .enumerate()
            .map(|(i, s)| (s.label.clone(), i))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_accessible_svg_without_inline_styles() {
        let c = stacked_bars(
            "aging",
            "Aging <by store>",
            "Open promises by days past due",
            &["MS".into(), "HB".into()],
            &[
                Series {
                    label: "current".into(),
                    values: vec![Some(10.0), Some(0.0)],
                },
                Series {
                    label: "1–30".into(),
                    values: vec![Some(5.0), None],
                },
            ],
            &|v| format!("${v:.0}"),
        );
        assert!(c.svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 760 320\" role=\"img\""));
        assert!(
            c.svg
                .contains("<title id=\"aging-t\">Aging &lt;by store&gt;</title>")
        );
        assert!(c.svg.contains("<desc id=\"aging-d\">"));
        assert!(c.svg.contains("<rect"), "bars are drawn");
        assert!(!c.svg.contains("style="), "the CSP forbids inline styles");
        assert!(
            c.svg.contains("\nMS\n") && c.svg.contains("\nHB\n"),
            "{}",
            c.svg
        );
        assert_eq!(c.legend.len(), 2);
        let l = lines(
            "rate",
            "Rate",
            "Kept",
            &["Jan".into(), "Feb".into(), "Mar".into()],
            &[Series {
                label: "MS".into(),
                values: vec![Some(0.5), None, Some(0.9)],
            }],
            Some((0.0, 1.0)),
            &|v| format!("{:.0}%", v * 100.0),
        );
        assert!(
            l.svg.contains("<polyline") || l.svg.contains("<path"),
            "{}",
            l.svg
        );
        assert!(!l.svg.contains("style="));
    }
}
