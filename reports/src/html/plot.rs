//! The load view's plots, drawn by plotters into SVG strings that are inlined in the page.

use plotters::prelude::*;

/// One named line (and its points).
pub(super) struct Series {
    pub(super) name: String,
    pub(super) points: Vec<(f64, f64)>,
    /// Mark each point with a dot (few points: percentiles from the report, find-max steps).
    pub(super) dots: bool,
}

const COLORS: [RGBColor; 5] = [
    RGBColor(9, 105, 218),
    RGBColor(207, 34, 46),
    RGBColor(26, 127, 55),
    RGBColor(130, 80, 223),
    RGBColor(154, 103, 0),
];

/// How the x axis is labelled.
pub(super) enum XAxis {
    /// Linear, with this description.
    Linear(&'static str),
    /// `log10(1 / (1 - q))` of a quantile q: 0 is the 0th percentile, 1 the 90th, 2 the
    /// 99th, 3 the 99.9th.
    Percentile,
}

/// The `x` of quantile `q` on a [`XAxis::Percentile`] axis.
pub(super) fn percentile_x(q: f64) -> f64 {
    -(1.0 - q.min(1.0 - 1e-9)).log10()
}

fn percentile_label(x: f64) -> String {
    let q = (1.0 - 10f64.powf(-x)) * 100.0;
    let digits = x.round().max(2.0) as usize - 2;
    format!("{q:.digits$}%")
}

/// A line chart of `series` as an SVG document (an error text when plotting failed).
pub(super) fn chart(title: &str, x: XAxis, y_desc: &str, series: &[Series]) -> String {
    match draw(title, &x, y_desc, series) {
        Ok(svg) => svg,
        Err(e) => format!(
            "<p class=\"muted\">plot unavailable: {}</p>",
            super::esc(&e)
        ),
    }
}

fn draw(title: &str, x: &XAxis, y_desc: &str, series: &[Series]) -> Result<String, String> {
    let pts = || series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1) = (f64::MAX, f64::MIN);
    let mut y1 = 0f64;
    for &(px, py) in pts() {
        x0 = x0.min(px);
        x1 = x1.max(px);
        y1 = y1.max(py);
    }
    if x0 > x1 {
        return Err("no data".into());
    }
    if let XAxis::Percentile = x {
        x0 = 0.0;
        x1 = x1.ceil().max(1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let y1 = if y1 > 0.0 { y1 * 1.1 } else { 1.0 };
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 340)).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(&x))?;
        let mut c = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, 0f64..y1)
            .map_err(|x| e(&x))?;
        let mut mesh = c.configure_mesh();
        mesh.y_desc(y_desc).light_line_style(WHITE.mix(0.0));
        let label = |v: &f64| percentile_label(*v);
        match x {
            XAxis::Linear(desc) => {
                mesh.x_desc(*desc);
            }
            XAxis::Percentile => {
                mesh.x_desc("percentile (log scale)")
                    .x_labels(x1 as usize + 1)
                    .x_label_formatter(&label);
            }
        }
        mesh.draw().map_err(|x| e(&x))?;
        for (i, s) in series.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            c.draw_series(LineSeries::new(
                s.points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(|x| e(&x))?
            .label(s.name.as_str())
            .legend(move |(lx, ly)| {
                PathElement::new(vec![(lx, ly), (lx + 16, ly)], color.stroke_width(2))
            });
            if s.dots {
                c.draw_series(s.points.iter().map(|p| Circle::new(*p, 3, color.filled())))
                    .map_err(|x| e(&x))?;
            }
        }
        c.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(|x| e(&x))?;
        root.present().map_err(|x| e(&x))?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_axis_labels() {
        assert_eq!(percentile_label(0.0), "0%");
        assert_eq!(percentile_label(1.0), "90%");
        assert_eq!(percentile_label(2.0), "99%");
        assert_eq!(percentile_label(3.0), "99.9%");
        assert!((percentile_x(0.99) - 2.0).abs() < 1e-9);
    }

    #[test]
    fn a_chart_is_an_svg_with_its_title_and_legend() {
        let svg = chart(
            "setup",
            XAxis::Percentile,
            "ms",
            &[Series {
                name: "setup".into(),
                points: vec![(0.0, 1.0), (1.0, 2.0), (2.0, 5.0)],
                dots: true,
            }],
        );
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("\nsetup\n"), "{svg}");
        assert!(svg.contains("99%"), "{svg}");
        assert!(chart("x", XAxis::Linear("s"), "ms", &[]).contains("plot unavailable"));
    }
}
