using StbImageSharp;

namespace KdTools.Cmdlets.Tests.Cmdlets;

/// <summary>Export-KdPlot in the hosted engine: PNGs written headless, decodable, of the requested size.</summary>
[Collection("module")]
public sealed class PlotCmdletTests(ModuleFixture fixture) : IDisposable
{
    private const string Setup = """
        $data = Get-KdDataset -Synthetic -Classes 4 -TrainCount 96 -TestCount 32 -ImageSize 16 -Seed 1
        $teacher = New-Teacher -Architecture resnet8 -Dataset $data -Epochs 1 -BatchSize 32 -Threads 2
        $fitnet = $teacher | Invoke-Distillation -Student resnet8 -Method FitNet -MethodOption @{ HintEpochs = 2 } -Dataset $data -Epochs 2 -BatchSize 32 -Threads 2

        """;

    private readonly ModuleSession _session = fixture.Session;
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Learning_curves_of_a_run_with_a_pre_stage_decode_to_the_requested_size()
    {
        var path = _folder.PathOf("curves.png");
        var result = _session.Run(Setup + $"""
            $fitnet.PreStages
            $fitnet | Export-KdPlot -Path '{path}' -Width 720 -Height 360
            """);

        result.AssertSucceeded();
        Assert.Equal("hint:2", Assert.Single(result.Output).BaseObject);
        var image = ImageResult.FromMemory(File.ReadAllBytes(path), ColorComponents.RedGreenBlue);
        Assert.Equal((720, 360), (image.Width, image.Height));
    }

    [Fact]
    public void A_bar_chart_of_measurements_decodes_to_the_requested_size_and_an_existing_file_needs_Force()
    {
        var path = _folder.PathOf("bars.png");
        var result = _session.Run(Setup + $"""
            $rows = $teacher, $fitnet | Measure-Student -Dataset $data -NoTiming
            $rows | Export-KdPlot -Path '{path}' -Kind Bar -Width 500 -Height 300
            $rows | Export-KdPlot -Path '{path}' -Kind Bar
            """);

        Assert.Equal("KdTools.Plot.Exists", result.FirstErrorId);
        var image = ImageResult.FromMemory(File.ReadAllBytes(path), ColorComponents.RedGreenBlue);
        Assert.Equal((500, 300), (image.Width, image.Height));
    }
}
