using System.Management.Automation;

namespace KdTools.Cmdlets.Tests.Cmdlets;

[Collection("module")]
public sealed class DiscoveryCmdletTests(ModuleFixture fixture)
{
    private readonly ModuleSession _session = fixture.Session;

    [Fact]
    public void Module_exports_the_documented_cmdlets()
    {
        var result = _session.Run("(Get-Module KdTools).ExportedCmdlets.Keys | ForEach-Object { $_ }");
        result.AssertSucceeded();
        var names = result.Output.Select(o => o.ToString()).Order().ToArray();
        Assert.Equal(new[] { "Add-IntermediateHead", "ConvertTo-KdShard", "Export-KdPlot", "Get-KdArchitecture", "Get-KdDataset", "Get-KdHistory", "Get-KdMethod",
            "Get-KdPrediction", "Get-KdRecipe", "Import-KdModel", "Invoke-Distillation", "Measure-Student", "New-Student", "New-Teacher",
            "Save-KdDataset", "Save-KdModel" }, names);
    }

    [Fact]
    public void Get_KdMethod_lists_methods_with_defaults_and_options_as_rows()
    {
        var kd = Assert.Single(_session.Run("Get-KdMethod KD").Output);
        Assert.Equal("KD", kd.Prop("Name"));
        Assert.Equal("Temperature=4;Alpha=0.9;CeWeight=;LogitStandardization=false;Preset=", kd.Prop("Options"));
        Assert.Equal(true, kd.Prop("NeedsTeacher"));

        var rows = _session.Run("Get-KdMethod KD -Option");
        rows.AssertSucceeded();
        Assert.Equal(new[] { "Temperature", "Alpha", "CeWeight", "LogitStandardization", "Preset" }, rows.Output.Select(r => (string)r.Prop("Name")!));
        Assert.Equal("0.9", rows.Output[1].Prop("Default"));
    }

    [Fact]
    public void Get_KdMethod_lists_a_methods_presets_in_its_Preset_row()
    {
        var rows = _session.Run("Get-KdMethod DKD -Option");
        rows.AssertSucceeded();
        var preset = Assert.Single(rows.Output, r => (string)r.Prop("Name")! == "Preset");
        Assert.Contains("resnet56-resnet20 (Beta=2; mdistiller configs/cifar100/dkd/res56_res20.yaml)", (string)preset.Prop("Description")!);
    }

    [Fact]
    public void Unknown_method_is_an_error_record_with_a_stable_id()
    {
        var result = _session.Run("Get-KdMethod NoSuchMethod");
        Assert.Equal("KdTools.Method.Unknown", result.FirstErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, result.FirstError!.CategoryInfo.Category);
        Assert.Contains("known: ", result.FirstError.Exception.Message);
    }

    [Fact]
    public void Unknown_architecture_lists_the_known_ones()
    {
        var result = _session.Run("New-Student -Architecture resnt8 -Classes 10");
        Assert.Equal("KdTools.Architecture.Unknown", result.FirstErrorId);
        Assert.StartsWith("unknown architecture 'resnt8' (did you mean 'resnet8'?); known: ", result.FirstError!.Exception.Message);
        Assert.Contains("resnet8", result.FirstError.Exception.Message);
    }

    [Fact]
    public void Get_KdArchitecture_lists_the_cifar_resnets()
    {
        var result = _session.Run("Get-KdArchitecture resnet* | ForEach-Object Name");
        result.AssertSucceeded();
        var names = result.Output.Select(o => o.ToString()).ToList();
        Assert.Contains("resnet8", names);
        Assert.Contains("resnet110", names);
        Assert.Contains("resnet32x4", names);
    }

    [Fact]
    public void Get_KdArchitecture_flags_the_lightweight_networks()
    {
        var result = _session.Run("""
            $all = Get-KdArchitecture
            [pscustomobject]@{
                Lightweight = ($all | Where-Object Lightweight).Name -join ','
                MobileOrShuffle = ($all | Where-Object Family -match 'mobilenet|shufflenet').Name -join ','
            }
            """);
        result.AssertSucceeded();
        var row = Assert.Single(result.Output);
        Assert.Equal(row.Properties["MobileOrShuffle"].Value, row.Properties["Lightweight"].Value);
        Assert.Contains("MobileNetV2", (string)row.Properties["Lightweight"].Value);
    }

    [Fact]
    public void Missing_dataset_folder_is_an_object_not_found_style_error()
    {
        var result = _session.Run("Get-KdDataset -Path ./no/such/folder");
        Assert.Equal("KdTools.Dataset.PathNotFound", result.FirstErrorId);
        Assert.Contains("no/such/folder", result.FirstError!.Exception.Message);
    }

    [Fact]
    public void Get_KdDataset_reads_a_csv_folder_with_the_given_shape()
    {
        var folder = Path.Combine(Path.GetTempPath(), "kdtools-csv-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            // Rows: a label and 8x8 gray pixels.
            var pixels = string.Join(",", Enumerable.Repeat("7", 64));
            File.WriteAllLines(Path.Combine(folder, "train.csv"), [$"0,{pixels}", $"1,{pixels}", $"2,{pixels}"]);
            File.WriteAllLines(Path.Combine(folder, "test.csv"), [$"1,{pixels}"]);

            var result = _session.Run($"Get-KdDataset -Path '{folder}' -Format Csv -ImageSize 8 -Channels 1");

            result.AssertSucceeded();
            var info = Assert.Single(result.Output);
            Assert.Equal("csv", info.Prop("Name"));
            Assert.Equal(3, info.Prop("Classes"));
            Assert.Equal(3, info.Prop("TrainCount"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
