using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Models;

/// <summary>
/// A frozen pass that keeps only what its reader names (<see cref="FeatureRequest.RunFrozen"/>) gives the full pass's
/// values: the same logits and, for the names asked for, the same features, and nothing else; a logits-only pass
/// hands out ordinary tensors (not inference tensors) that a loss can save for backward. Networks that do not select
/// features run their full pass. A pass asked for features and no logits stops after the last of them: the later
/// stages and the classifier never run, and its output has no logits to read by mistake.
/// </summary>
public class FeatureRequestTests
{
    [Theory]
    [InlineData("resnet8")]
    [InlineData("resnet18")]
    public void Logits_only_pass_gives_the_full_pass_logits_and_no_feature(string architecture)
    {
        torch.manual_seed(3);
        using var network = ArchitectureRegistry.Create(architecture, 10);
        network.eval();
        using var scope = NewDisposeScope();
        var input = randn([3, 3, 16, 16], generator: new Generator(7));
        ModelOutput full;
        using (no_grad()) full = network.Run(input);

        var logitsOnly = FeatureRequest.RunFrozen(network, input, []);

        Assert.Empty(logitsOnly.Features);
        Assert.Equal(full.Logits.data<float>().ToArray(), logitsOnly.Logits.data<float>().ToArray());
        // An ordinary tensor: a loss that saves it for backward (mse_loss saves its target) works outside inference mode.
        using var student = randn([3, 10]).requires_grad_(true);
        nn.functional.mse_loss(student, logitsOnly.Logits).backward();
        Assert.NotNull(student.grad);
    }

    [Fact]
    public void Named_features_are_kept_with_the_full_pass_values_and_no_others()
    {
        torch.manual_seed(4);
        using var network = ArchitectureRegistry.Create("resnet8", 10);
        network.eval();
        using var scope = NewDisposeScope();
        var input = randn([2, 3, 16, 16], generator: new Generator(8));
        ModelOutput full;
        using (no_grad()) full = network.Run(input);

        var selected = FeatureRequest.RunFrozen(network, input, [FeatureNames.Stage(2), FeatureNames.Embedding]);

        Assert.Equal(new[] { FeatureNames.Embedding, FeatureNames.Stage(2) }, selected.Features.Keys.Order());
        foreach (var (name, feature) in selected.Features)
            Assert.Equal(full.Feature(name).data<float>().ToArray(), feature.data<float>().ToArray());
        Assert.Equal(full.Logits.data<float>().ToArray(), selected.Logits.data<float>().ToArray());
        Assert.False(selected.Logits.requires_grad);
    }

    [Fact]
    public void All_features_when_the_reader_names_none_or_the_network_does_not_select()
    {
        torch.manual_seed(5);
        using var network = ArchitectureRegistry.Create("resnet8", 10);
        network.eval();
        using var scope = NewDisposeScope();
        var input = randn([2, 3, 16, 16], generator: new Generator(9));
        ModelOutput full;
        using (no_grad()) full = network.Run(input);

        var everything = FeatureRequest.RunFrozen(network, input, wanted: null);

        Assert.Equal(full.Features.Keys.Order(), everything.Features.Keys.Order());
        // The request is consumed by the pass: a later plain Run keeps every feature again.
        FeatureRequest.RunFrozen(network, input, []);
        using (no_grad()) Assert.Equal(full.Features.Count, network.Run(input).Features.Count);

        // A family that does not select its features (VGG) runs its full pass whatever is asked.
        using var vgg = ArchitectureRegistry.Create("vgg8", 10);
        vgg.eval();
        ModelOutput vggFull;
        using (no_grad()) vggFull = vgg.Run(input);
        Assert.Equal(vggFull.Features.Keys.Order(), FeatureRequest.RunFrozen(vgg, input, []).Features.Keys.Order());
    }

    [Theory]
    [InlineData("resnet8", "fc")]
    [InlineData("resnet18", "linear")]
    public void Features_only_pass_stops_after_the_last_feature_asked_for(string architecture, string classifier)
    {
        torch.manual_seed(6);
        using var network = ArchitectureRegistry.Create(architecture, 10);
        network.eval();
        using var scope = NewDisposeScope();
        var input = randn([2, 3, 16, 16], generator: new Generator(10));
        ModelOutput full;
        using (no_grad()) full = network.Run(input);
        // Every module's forward hook fires through call(); count the calls of layer2's and layer3's blocks and the classifier.
        var calls = new Dictionary<string, int>();
        var modules = network.named_modules().ToDictionary(m => m.name, m => m.module);
        foreach (var name in new[] { "layer2.0", "layer3.0", classifier })
        {
            calls[name] = 0;
            ((nn.Module<Tensor, Tensor>)modules[name]).register_forward_hook((_, _, output) =>
            {
                calls[name]++;
                return output;
            });
        }

        var stopped = FeatureRequest.RunFrozen(network, input, [FeatureNames.Stage(1), FeatureNames.Stage(2)], logits: false);

        Assert.Equal(new[] { FeatureNames.Stage(1), FeatureNames.Stage(2) }, stopped.Features.Keys.Order());
        foreach (var (name, feature) in stopped.Features)
            Assert.Equal(full.Feature(name).data<float>().ToArray(), feature.data<float>().ToArray());
        Assert.Equal(1, calls["layer2.0"]);
        Assert.Equal(0, calls["layer3.0"]);
        Assert.Equal(0, calls[classifier]);
        Assert.False(stopped.HasLogits);
        Assert.Throws<InvalidOperationException>(() => stopped.Logits);

        // Asked for the logits too, the same request runs the whole network.
        var whole = FeatureRequest.RunFrozen(network, input, [FeatureNames.Stage(1), FeatureNames.Stage(2)], logits: true);
        Assert.Equal(1, calls["layer3.0"]);
        Assert.Equal(1, calls[classifier]);
        Assert.Equal(full.Logits.data<float>().ToArray(), whole.Logits.data<float>().ToArray());
    }
}
