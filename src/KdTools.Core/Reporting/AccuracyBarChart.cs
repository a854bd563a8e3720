using System.Globalization;
using ScottPlot;

namespace KdTools.Core.Reporting;

/// <summary>
/// A sweep at a glance: one bar per measured student (its test top-1, the value written above it, its label below),
/// and a dashed horizontal line per reference model (the teacher), named in the legend.
/// </summary>
public static class AccuracyBarChart
{
    /// <summary>Renders the chart as a PNG of <paramref name="width"/> × <paramref name="height"/> pixels.</summary>
    /// <param name="metric">What the entries' fractions are, for the title and the axis: "top-1", or "mIoU" for segmentation.</param>
    /// <exception cref="KdException"><see cref="KdErrorIds.PlotEmpty"/> when there is no bar.</exception>
    public static byte[] RenderPng(IReadOnlyList<AccuracyEntry> bars, IReadOnlyList<AccuracyEntry> lines, int width, int height,
        string metric = "top-1")
    {
        if (bars.Count == 0)
            throw new KdException(KdErrorIds.PlotEmpty, KdErrorKind.InvalidArgument,
                "an accuracy chart needs at least one measured student", bars.Count);
        using var plot = new Plot();
        ChartStyle.Apply(plot);
        plot.Title($"test {metric}");
        plot.YLabel($"{metric} (%)");
        var barPlot = plot.Add.Bars(bars.Select((entry, i) => new Bar
        {
            Position = i,
            Value = entry.Top1 * 100,
            FillColor = ChartStyle.SeriesColor(i),
            Label = (entry.Top1 * 100).ToString("F1", CultureInfo.InvariantCulture),
        }).ToList());
        barPlot.LabelsOnTop = true;
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, bars.Count).Select(i => (double)i).ToArray(), bars.Select(b => b.Label).ToArray());
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        for (int i = 0; i < lines.Count; i++)
        {
            var line = plot.Add.HorizontalLine(lines[i].Top1 * 100, 2, Colors.Black.WithAlpha(0.8 - 0.2 * (i % 3)), LinePattern.Dashed);
            line.LegendText = $"{lines[i].Label} ({(lines[i].Top1 * 100).ToString("F1", CultureInfo.InvariantCulture)})";
        }
        // Bars start at zero (a truncated axis exaggerates differences); the top leaves room for the value labels.
        var highest = bars.Concat(lines).Max(entry => entry.Top1 * 100);
        plot.Axes.SetLimitsY(0, Math.Max(1, highest) * 1.12);
        // Below the axes: inside, it would hide a bar whatever corner it took.
        if (lines.Count > 0) plot.ShowLegend(Edge.Bottom);
        using var image = plot.GetImage(width, height);
        return ChartStyle.Png(image);
    }
}
