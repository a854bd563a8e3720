using System.Management.Automation;

namespace KdTools.Cmdlets.Tests.Cmdlets;

/// <summary>
/// Multi-exit models through the cmdlets: DIH's intermediate heads mounted on a teacher (Add-IntermediateHead) and
/// BYOT's branches grown on a student, as Measure-Student reports them and as checkpoints keep them.
/// </summary>
[Collection("module")]
public sealed class MultiExitCmdletTests(ModuleFixture fixture)
{
    // The runspace outlives the test class, so the teacher is trained once, on first use, and shared by the tests.
    private const string Setup = """
        if (-not $global:MultiExitSetup) {
            $setupData = Get-KdDataset -Synthetic -Classes 4 -TrainCount 128 -TestCount 64 -ImageSize 16 -Seed 1
            $global:MultiExitSetup = @{
                Data = $setupData
                Teacher = New-Teacher -Architecture resnet14 -Dataset $setupData -Epochs 1 -BatchSize 32 -Threads 2
            }
        }
        $data = $MultiExitSetup.Data
        $teacher = $MultiExitSetup.Teacher

        """;

    /// <summary>Parameters of a linear head on a 16×16 input's stage output: (C·H·W + 1 bias) × 4 classes.</summary>
    private const long Head1 = (16 * 16 * 16 + 1) * 4, Head2 = (32 * 8 * 8 + 1) * 4, Head3 = (64 * 4 * 4 + 1) * 4;

    private readonly ModuleSession _session = fixture.Session;

    [Fact]
    public void Heads_on_every_stage_give_one_measurement_per_exit_and_the_ensemble()
    {
        var result = _session.Run(Setup + """
            $headed = $teacher | Add-IntermediateHead -Dataset $data -Epochs 1 -BatchSize 32 -Threads 2
            $headed
            $headed | Measure-Student -Dataset $data -NoTiming
            """);
        result.AssertSucceeded();
        var headed = result.Output[0];
        var rows = result.Output.Skip(1).ToList();

        Assert.Equal("KdTools.KdModel", headed.TypeNames[0]);
        Assert.Equal("Teacher", headed.Prop("Role"));
        Assert.Equal("head1,head2,head3", headed.Prop("Exits"));
        Assert.Matches(@"^head1=[0-9.]+;head2=[0-9.]+;head3=[0-9.]+$", (string)headed.Prop("ExitTop1")!);

        Assert.Equal(["final", "head1", "head2", "head3", "ensemble"], rows.Select(r => (string)r.Prop("Exit")!));
        Assert.All(rows, r => Assert.Equal("KdTools.KdMeasurement", r.TypeNames[0]));
        Assert.All(rows, r => Assert.Equal("resnet14", r.Prop("Model")));
        Assert.All(rows, r => Assert.InRange((double)r.Prop("Top1")!, 0.0, 1.0));
        Assert.Equal(RunScalar<long>("$teacher.Parameters") + Head1 + Head2 + Head3, headed.Prop("Parameters"));
    }

    [Fact]
    public void Stage_option_mounts_only_the_named_heads()
    {
        var result = _session.Run(Setup + """
            $headed = $teacher | Add-IntermediateHead -Stage 2, 3 -Dataset $data -Epochs 1 -BatchSize 32 -Threads 2
            $headed
            $headed | Measure-Student -Dataset $data -NoTiming | Where-Object Exit -ne 'final'
            """);
        result.AssertSucceeded();
        var headed = result.Output[0];

        Assert.Equal("head2,head3", headed.Prop("Exits"));
        Assert.Matches(@"^head2=[0-9.]+;head3=[0-9.]+$", (string)headed.Prop("ExitTop1")!);
        Assert.Equal(RunScalar<long>("$teacher.Parameters") + Head2 + Head3, headed.Prop("Parameters"));
        Assert.Equal(["head2", "head3", "ensemble"], result.Output.Skip(1).Select(r => (string)r.Prop("Exit")!));
    }

    [Fact]
    public void Adding_heads_leaves_the_teacher_backbone_accuracy_unchanged()
    {
        var result = _session.Run(Setup + """
            $before = $teacher | Measure-Student -Dataset $data -NoTiming
            $headed = $teacher | Add-IntermediateHead -Dataset $data -Epochs 2 -BatchSize 32 -Threads 2
            $before
            $headed | Measure-Student -Dataset $data -NoTiming | Where-Object Exit -eq 'final'
            $teacher | Measure-Student -Dataset $data -NoTiming
            """);
        result.AssertSucceeded();
        Assert.Equal(3, result.Output.Count);
        var before = result.Output[0];
        foreach (var after in result.Output.Skip(1))
        {
            Assert.Equal("final", after.Prop("Exit"));
            Assert.Equal(before.Prop("Top1"), after.Prop("Top1"));
            Assert.Equal(before.Prop("Top5"), after.Prop("Top5"));
            Assert.Equal(before.Prop("Loss"), after.Prop("Loss"));
        }
    }

    [Fact]
    public void DIH_distills_from_the_final_classifier_and_each_head()
    {
        var result = _session.Run(Setup + """
            $teacher | Add-IntermediateHead -Stage 2, 3 -Dataset $data -Epochs 1 -BatchSize 32 -Threads 2 |
                Invoke-Distillation -Student resnet8 -Method DIH -Dataset $data -Epochs 1 -BatchSize 32 -Threads 2
            """);
        result.AssertSucceeded();
        var run = Assert.Single(result.Output);

        Assert.Equal("DIH", run.Prop("Method"));
        Assert.Equal("Completed", run.Prop("Status"));
        Assert.Equal(["dih_final", "dih_head2", "dih_head3"], TermNames(run));
        Assert.Equal("", run.Prop("PreStages"));
    }

    [Fact]
    public void DIH_on_a_teacher_without_heads_names_Add_IntermediateHead()
    {
        var result = _session.Run(Setup + """
            $teacher | Invoke-Distillation -Student resnet8 -Method DIH -Dataset $data -Epochs 1 -BatchSize 32
            """);
        Assert.Equal("KdTools.Method.TeacherHeadsRequired", result.FirstErrorId);
        Assert.Contains("has none", result.FirstError!.Exception.Message);
        Assert.Contains("Add-IntermediateHead", result.FirstError.ErrorDetails.Message);
        Assert.Empty(result.Output);
    }

    [Fact]
    public void BYOT_student_is_measured_per_branch_and_keeps_its_branches_in_a_checkpoint()
    {
        var folder = Path.Combine(Path.GetTempPath(), "kdtools-cmdlet-tests", Guid.NewGuid().ToString("N"));
        var file = Path.Combine(folder, "byot.safetensors");
        try
        {
            var result = _session.Run(Setup + $$"""
                $run = Invoke-Distillation -Method BYOT -Student resnet8 -Dataset $data -Epochs 1 -BatchSize 32 -Threads 2
                $run
                $run | Measure-Student -Dataset $data -NoTiming
                $run | Save-KdModel -Path '{{file}}'
                (New-Teacher -Path '{{file}}').Exits
                Measure-Student -Model '{{file}}' -Dataset $data -NoTiming
                """);
            result.AssertSucceeded();
            var run = result.Output[0];
            var rows = result.Output.Skip(1).Take(4).ToList();
            var reloadedExits = result.Output[5].BaseObject;
            var reloaded = result.Output.Skip(6).ToList();

            Assert.Equal("", run.Prop("Teacher"));
            Assert.Equal(["ce", "soft_ce", "branch_ce", "feature"], TermNames(run));
            Assert.Equal(["final", "branch1", "branch2", "ensemble"], rows.Select(r => (string)r.Prop("Exit")!));
            Assert.All(rows, r => Assert.True(double.IsNaN((double)r.Prop("TeacherAgreement")!)));
            // resnet8 for 4 classes (77,652) plus the two branches, hand-counted from ByotBranches' layers:
            // branch1 = attention 896 + SepConv(16→32) 1,152 + SepConv(32→64) 3,840 + fc 260; branch2 = 2,816 + 3,840 + 260.
            // The feature adapters (2 × 4,160) are training-only and must not be part of the student.
            Assert.All(rows, r => Assert.Equal(77_652L + 6_148 + 6_916, r.Prop("Parameters")));

            Assert.Equal("branch1,branch2", reloadedExits);
            Assert.Equal(rows.Select(r => r.Prop("Exit")), reloaded.Select(r => r.Prop("Exit")));
            Assert.Equal(rows.Select(r => r.Prop("Top1")), reloaded.Select(r => r.Prop("Top1")));
            Assert.Equal(rows.Select(r => r.Prop("Loss")), reloaded.Select(r => r.Prop("Loss")));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    private T RunScalar<T>(string expression)
    {
        var result = _session.Run(Setup + expression);
        result.AssertSucceeded();
        return (T)Assert.Single(result.Output).BaseObject;
    }

    private static IEnumerable<string> TermNames(PSObject run) =>
        ((string)run.Prop("LossTerms")!).Split(';').Select(t => t.Split('=')[0]);
}
