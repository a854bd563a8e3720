using KdTools.Core.Training;
using ScottPlot;

namespace KdTools.Core.Reporting;

/// <summary>
/// Learning curves: one panel per metric, one line per run in the same colour on every panel, the legend on the first.
/// Main-stage epochs are at x = 1..N; a run's pre-stage epochs come before, ending at x = 0, drawn dashed over a grey
/// band (named in the legend), so runs with and without pre-stages line up on their main training.
/// </summary>
public static class LearningCurveChart
{
    /// <summary>Renders the chart as a PNG of <paramref name="width"/> × <paramref name="height"/> pixels.</summary>
    /// <exception cref="KdException"><see cref="KdErrorIds.PlotEmpty"/> when there is no run or no metric.</exception>
    public static byte[] RenderPng(IReadOnlyList<CurveRun> runs, IReadOnlyList<CurveMetric> metrics, int width, int height)
    {
        if (runs.Count == 0 || metrics.Count == 0)
            throw new KdException(KdErrorIds.PlotEmpty, KdErrorKind.InvalidArgument,
                "a learning-curve chart needs at least one run with epochs and one metric", runs.Count);
        var multiplot = new Multiplot();
        for (int i = 1; i < metrics.Count; i++) multiplot.AddPlot();
        int columns = metrics.Count <= 2 ? metrics.Count : (metrics.Count + 1) / 2;
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid((metrics.Count + columns - 1) / columns, columns);
        var plots = multiplot.GetPlots();
        for (int panel = 0; panel < metrics.Count; panel++)
            DrawPanel(plots[panel], runs, metrics[panel], withLegend: panel == 0);
        using var image = multiplot.Render(width, height);
        return ChartStyle.Png(image);
    }

    private static void DrawPanel(Plot plot, IReadOnlyList<CurveRun> runs, CurveMetric metric, bool withLegend)
    {
        ChartStyle.Apply(plot);
        plot.Title(Title(metric));
        plot.XLabel("epoch");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        var preStages = runs.SelectMany(r => r.Epochs).Where(e => e.Stage != Trainer.MainStage).Select(e => e.Stage).Distinct().ToList();
        int longestPreStage = runs.Max(r => r.Epochs.Count(e => e.Stage != Trainer.MainStage));
        if (longestPreStage > 0)
        {
            var band = plot.Add.HorizontalSpan(0.5 - longestPreStage, 0.5, Colors.Gray.WithAlpha(0.15));
            band.LegendText = $"pre-stage ({string.Join(", ", preStages)})";
        }
        for (int run = 0; run < runs.Count; run++)
        {
            var color = ChartStyle.SeriesColor(run);
            var epochs = runs[run].Epochs;
            int preEpochs = epochs.Count(e => e.Stage != Trainer.MainStage);
            // Pre-stage epochs in the order they ran, the last at x = 0; main-stage epochs at their own numbers.
            var points = epochs.Select((e, i) => (X: e.Stage == Trainer.MainStage ? e.Epoch : i + 1 - preEpochs, e.Stage, Y: e.Value(metric)))
                .Where(p => double.IsFinite(p.Y)).ToList();
            var main = points.Where(p => p.Stage == Trainer.MainStage).ToList();
            var pre = points.Where(p => p.Stage != Trainer.MainStage).ToList();
            var line = plot.Add.ScatterLine(main.Select(p => (double)p.X).ToArray(), main.Select(p => p.Y).ToArray(), color);
            line.LineWidth = 2;
            line.MarkerSize = main.Count <= 40 ? 5 : 0;
            line.LegendText = runs[run].Label;
            // The rate holds for a whole epoch and changes at milestones: steps, not slopes.
            if (metric == CurveMetric.LearningRate) line.ConnectStyle = ConnectStyle.StepHorizontal;
            if (pre.Count > 0)
            {
                var dashed = plot.Add.ScatterLine(pre.Select(p => (double)p.X).ToArray(), pre.Select(p => p.Y).ToArray(), color);
                dashed.LinePattern = LinePattern.Dashed;
                dashed.LineWidth = 2;
                dashed.MarkerSize = pre.Count <= 40 ? 5 : 0;
            }
        }
        // Accuracy rises from the lower left and losses fall to the lower right: the upper corner they leave is free.
        if (withLegend)
            plot.ShowLegend(metric is CurveMetric.TestTop1 or CurveMetric.TrainTop1 ? Alignment.UpperLeft : Alignment.UpperRight);
        else
            plot.HideLegend();
    }

    private static string Title(CurveMetric metric) => metric switch
    {
        CurveMetric.TestTop1 => "test top-1 (%)",
        CurveMetric.TrainLoss => "training loss",
        CurveMetric.TestLoss => "test loss",
        CurveMetric.TrainTop1 => "training top-1 (%)",
        CurveMetric.LearningRate => "learning rate",
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, null),
    };
}
