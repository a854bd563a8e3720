using KdTools.Core.Checkpoints;
using KdTools.Core.Models;
using KdTools.Core.Tests.Training;
using KdTools.Core.Training;
using TorchSharp;

namespace KdTools.Core.Tests.Methods;

public class HeadFineTuningTests
{
    [Fact]
    public void Heads_train_while_the_backbone_stays_bitwise_unchanged_and_survive_a_checkpoint()
    {
        using var data = TinySetup.Dataset(train: 96, test: 64);
        var backboneJob = TinySetup.Job(data);
        new Trainer(TinySetup.Settings(epochs: 1)).Run(backboneJob);
        var backbone = backboneJob.Student;
        var before = backbone.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        var result = HeadFineTuning.Run(backbone, null, data, TinySetup.Settings(epochs: 2) with { LearningRate = 0.01 });
        var model = Assert.IsType<MultiExitNet>(result.Network);

        Assert.Equal(new[] { "head1", "head2", "head3" }, model.Heads.ExitNames);
        foreach (var (key, value) in backbone.state_dict())
            Assert.True(before[key].equal(value).all().item<bool>(), $"backbone {key} changed");
        Assert.All(backbone.parameters(), p => Assert.True(p.requires_grad));
        var epochs = result.TrainEpochs.ToList();
        Assert.Equal(new[] { "head1", "head2", "head3" }, epochs[^1].Terms.Keys);
        Assert.Contains("ensemble", epochs[^1].ExitTop1.Keys);
        Assert.True(epochs[^1].TrainLoss < epochs[0].TrainLoss, $"head loss {epochs[0].TrainLoss} → {epochs[^1].TrainLoss}");

        var file = Path.Combine(TinySetup.TempFolder(), "teacher.safetensors");
        ModelFile.Save(file, model, new ModelProvenance { Method = "CE" });
        var loaded = Assert.IsType<MultiExitNet>(ModelFile.Load(file).Model);
        Assert.Equal(model.Heads.Configuration, loaded.Heads.Configuration);
        using var x = torch.randn(2, 3, 16, 16);
        model.eval();
        loaded.eval();
        using var noGrad = torch.no_grad();
        Assert.True(model.Run(x).Exits["head2"].allclose(loaded.Run(x).Exits["head2"]));
    }
}
