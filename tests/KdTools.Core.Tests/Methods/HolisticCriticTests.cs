using KdTools.Core.Losses;
using KdTools.Core.Methods.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Methods;

public class HolisticCriticTests
{
    [Fact]
    public void Power_iteration_drives_the_spectral_norm_of_the_weight_to_one()
    {
        using var conv = new SpectralNormConv2d(3, 5, 4, stride: 2, padding: 1);
        conv.train();
        using var scope = NewDisposeScope();
        var input = randn(1, 3, 8, 8);
        using (no_grad())
            for (int i = 0; i < 30; i++) conv.call(input);

        var weight = conv.state_dict()["weight_orig"];
        var largest = linalg.svdvals(weight.view(5, -1))[0].item<float>();
        var normalizedLargest = linalg.svdvals(conv.NormalizedWeight().detach().view(5, -1))[0].item<float>();

        Assert.NotEqual(1f, largest, 2);
        Assert.Equal(1f, normalizedLargest, 3);
    }

    [Fact]
    public void Singular_vectors_are_buffers_refined_in_training_and_kept_in_evaluation()
    {
        using var conv = new SpectralNormConv2d(2, 4, 4);
        using var scope = NewDisposeScope();
        var state = conv.state_dict();
        Assert.Equal(["bias", "weight_orig", "weight_u", "weight_v"], state.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(2, conv.parameters().Count()); // weight_orig and bias; u and v are not trained
        var input = randn(1, 2, 6, 6);

        var before = state["weight_u"].clone();
        conv.eval();
        using (no_grad()) conv.call(input);
        Assert.True(state["weight_u"].equal(before).all().item<bool>());
        conv.train();
        using (no_grad()) conv.call(input);
        Assert.False(state["weight_u"].allclose(before));
    }

    [Theory]
    [InlineData(8, 8, 1, 1)]     // 1/8 logits of a 64-pixel image, upsampled to 64
    [InlineData(65, 65, 1, 1)]   // the reference's 65×65 logits of 512-pixel crops
    [InlineData(8, 16, 1, 5)]    // shorter side to 64, aspect kept: 64×128
    public void Scores_a_map_of_logits_of_any_size(int height, int width, int outHeight, int outWidth)
    {
        using var critic = new HolisticCritic(scoreChannels: 5, convDim: 4);
        using var scope = NewDisposeScope();

        var score = critic.Score(randn(2, 5, height, width));

        Assert.Equal(new long[] { 2, 1, outHeight, outWidth }, score.shape);
    }

    [Fact]
    public void Has_the_reference_layers_and_parameters()
    {
        using var critic = new HolisticCritic(scoreChannels: 19);
        var keys = critic.state_dict().Keys.ToHashSet();

        // Trainable parameters of the reference layout at 19 classes and conv_dim 64 (its SpectralNorm's u and v are
        // Parameters without gradient there; buffers here): BN, four 4×4 convs, two attention layers, the last conv.
        Assert.Equal(3_191_721, critic.parameters().Sum(p => p.numel()));
        Assert.Superset(new HashSet<string>
        {
            "preprocess_additional.weight", "preprocess_additional.running_mean", "l1.0.weight_orig", "l1.0.weight_u",
            "l4.0.weight_v", "attn1.query_conv.weight", "attn2.value_conv.bias", "attn2.gamma", "last.0.weight", "last.0.bias",
        }, keys);
    }

    [Fact]
    public void The_image_conditioned_critic_reads_the_image_pooled_to_the_logits()
    {
        using var critic = new HolisticCritic(scoreChannels: 5, imageChannels: 3, convDim: 4);
        using var scope = NewDisposeScope();
        var logits = randn(2, 5, 8, 8);

        var score = critic.Score(logits, randn(2, 3, 64, 64));

        Assert.Equal(new long[] { 2, 1, 1, 1 }, score.shape);
        Assert.Equal(8, critic.state_dict()["preprocess_additional.weight"].shape[0]);
        Assert.Throws<ArgumentException>(() => critic.Score(logits));
    }

    [Fact]
    public void A_few_wgan_gp_steps_teach_the_critic_to_rank_teacher_maps_above_student_maps()
    {
        manual_seed(3);
        using var critic = new HolisticCritic(scoreChannels: 3, convDim: 4);
        critic.train();
        var optimizer = optim.SGD(critic.parameters(), 0.001, momentum: 0.9);
        using var random = new Generator(11);
        double Gap(Tensor teacher, Tensor student)
        {
            using var noGrad = no_grad();
            return critic.Score(teacher).mean().item<float>() - critic.Score(student).mean().item<float>();
        }

        // Teacher maps are confident (large logits for one class per pixel), student maps are flat.
        using var data = NewDisposeScope();
        var classes = randint(0, 3, [4, 8, 8], generator: random);
        var teacher = nn.functional.one_hot(classes, 3).permute(0, 3, 1, 2).to(ScalarType.Float32).mul(6);
        var student = randn([4, 3, 8, 8], generator: random).mul(0.3);
        double before = Gap(teacher, student);
        for (int step = 0; step < 25; step++)
        {
            using var scope = NewDisposeScope();
            var loss = HolisticDistillationLoss.Critic(critic.Score(student), critic.Score(teacher), AdversarialLoss.Wasserstein)
                       + 10 * HolisticDistillationLoss.GradientPenalty(x => critic.Score(x), teacher, student, random);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }

        Assert.True(Gap(teacher, student) > before + 0.3, $"critic gap {before} → {Gap(teacher, student)}");
    }
}
