using KdTools.Core.Reporting;
using KdTools.Core.Tests.Checkpoints;
using KdTools.Core.Training;
using StbImageSharp;

namespace KdTools.Core.Tests.Reporting;

/// <summary>Charts render headless to PNGs of the requested size that show their series.</summary>
public sealed class ChartTests : IDisposable
{
    // Category10's first two colours: the first and second series.
    private static readonly byte[] Blue = [0x1f, 0x77, 0xb4];
    private static readonly byte[] Orange = [0xff, 0x7f, 0x0e];

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Learning_curves_draw_every_run_in_every_panel_at_the_requested_size()
    {
        var png = LearningCurveChart.RenderPng([Run("KD resnet8", preStage: 0), Run("FitNet resnet8", preStage: 3, offset: 0.05)],
            [CurveMetric.TestTop1, CurveMetric.TrainLoss], 640, 300);
        var image = Decode(png);

        Assert.Equal((640, 300), (image.Width, image.Height));
        // Both runs appear in both panels (left and right halves).
        Assert.True(Count(image, Blue, x => x < 320) > 50, "first run missing from the first panel");
        Assert.True(Count(image, Blue, x => x >= 320) > 50, "first run missing from the second panel");
        Assert.True(Count(image, Orange, x => x < 320) > 50, "second run missing from the first panel");
        Assert.True(Count(image, Orange, x => x >= 320) > 50, "second run missing from the second panel");
    }

    [Fact]
    public void A_pre_stage_is_marked_by_a_grey_band_only_when_a_run_has_one()
    {
        var without = Decode(LearningCurveChart.RenderPng([Run("KD resnet8", preStage: 0)], [CurveMetric.TrainLoss], 400, 300));
        var with = Decode(LearningCurveChart.RenderPng([Run("FitNet resnet8", preStage: 4)], [CurveMetric.TrainLoss], 400, 300));

        // The band is 15 % grey over white: (0.85·255 + 0.15·128) ≈ 236 in every channel.
        Assert.True(Count(without, [236, 236, 236], _ => true, tolerance: 2) < 200, "a band without a pre-stage");
        Assert.True(Count(with, [236, 236, 236], _ => true, tolerance: 2) > 2000, "no pre-stage band");
    }

    [Fact]
    public void Every_metric_renders_one_panel_each()
    {
        var png = LearningCurveChart.RenderPng([Run("CE resnet8", preStage: 2)], Enum.GetValues<CurveMetric>(), 900, 600);

        var image = Decode(png);
        Assert.Equal((900, 600), (image.Width, image.Height));
        // Five panels on a 3 × 2 grid: the run's colour in each column of the top row.
        foreach (var column in new[] { 0, 1, 2 })
            Assert.True(Count(image, Blue, x => x / 300 == column, y => y < 300) > 20, $"panel {column} is empty");
    }

    [Fact]
    public void Bar_chart_draws_one_bar_per_student_and_names_the_teacher_line()
    {
        var png = AccuracyBarChart.RenderPng([new("KD", 0.71), new("CE", 0.64)], [new("teacher resnet20", 0.75)], 500, 350);

        var image = Decode(png);
        Assert.Equal((500, 350), (image.Width, image.Height));
        Assert.True(Count(image, Blue, _ => true) > 1000, "first bar missing");
        Assert.True(Count(image, Orange, _ => true) > 1000, "second bar missing");
    }

    [Fact]
    public void Nothing_to_draw_is_an_error()
    {
        var ex = Assert.Throws<KdException>(() => LearningCurveChart.RenderPng([], [CurveMetric.TestTop1], 400, 300));
        Assert.Equal(KdErrorIds.PlotEmpty, ex.ErrorId);
        ex = Assert.Throws<KdException>(() => AccuracyBarChart.RenderPng([], [new("teacher", 0.5)], 400, 300));
        Assert.Equal(KdErrorIds.PlotEmpty, ex.ErrorId);
    }

    [Fact]
    public void A_file_where_the_folder_should_be_fails_naming_the_target_and_leaves_nothing_behind()
    {
        File.WriteAllText(_folder.File("blocker"), "a file, not a folder");
        var target = Path.Combine(_folder.File("blocker"), "curves.png");

        var ex = Assert.Throws<KdException>(() => PngFile.Write(target, [1, 2, 3]));

        Assert.Equal(KdErrorIds.PlotWriteFailed, ex.ErrorId);
        Assert.Equal(KdErrorKind.WriteError, ex.Kind);
        Assert.Contains($"'{target}'", ex.Message);
        Assert.Contains("is a file, not a folder", ex.Message);
        Assert.DoesNotContain(".tmp", ex.Message);
        Assert.Equal(["blocker"], _folder.Entries());
    }

    [Fact]
    public void A_write_replaces_the_file_in_one_step_and_creates_missing_folders()
    {
        var target = Path.Combine(_folder.Path, "plots", "deeper", "curves.png");
        PngFile.Write(target, [1, 2, 3]);
        PngFile.Write(target, [4, 5]);

        Assert.Equal([4, 5], File.ReadAllBytes(target));
        Assert.Equal(["curves.png"], Directory.GetFileSystemEntries(Path.GetDirectoryName(target)!).Select(Path.GetFileName));
    }

    /// <summary>A run of 6 main epochs (accuracy rising, loss falling), after <paramref name="preStage"/> hint epochs;
    /// <paramref name="offset"/> shifts its values so that runs do not hide each other.</summary>
    private static CurveRun Run(string label, int preStage, double offset = 0)
    {
        var epochs = Enumerable.Range(1, preStage)
            .Select(e => new CurveEpoch("hint", e, double.NaN, 2.0 / e, double.NaN, double.NaN, 0.05))
            .Concat(Enumerable.Range(1, 6).Select(e => new CurveEpoch(Trainer.MainStage, e, 0.2 + 0.1 * e + offset, 2.5 - 0.3 * e + offset, 2.4 - 0.3 * e, 0.25 + 0.1 * e, 0.05)))
            .ToList();
        return new CurveRun(label, epochs);
    }

    private static ImageResult Decode(byte[] png) => ImageResult.FromMemory(png, ColorComponents.RedGreenBlue);

    private static int Count(ImageResult image, byte[] rgb, Func<int, bool> column, Func<int, bool>? row = null, int tolerance = 8)
    {
        int count = 0;
        for (int y = 0; y < image.Height; y++)
        {
            if (row is not null && !row(y)) continue;
            for (int x = 0; x < image.Width; x++)
            {
                if (!column(x)) continue;
                int i = (y * image.Width + x) * 3;
                if (Math.Abs(image.Data[i] - rgb[0]) <= tolerance && Math.Abs(image.Data[i + 1] - rgb[1]) <= tolerance
                    && Math.Abs(image.Data[i + 2] - rgb[2]) <= tolerance)
                    count++;
            }
        }
        return count;
    }
}
