using KdTools.Core.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Losses;

public class HolisticDistillationLossTests
{
    [Fact]
    public void Wasserstein_and_hinge_critic_losses_have_their_signs_and_values()
    {
        using var scope = NewDisposeScope();
        var onStudent = tensor(new[] { -2.0, 0.0 });
        var onTeacher = tensor(new[] { 2.0, 0.5 });

        // A critic that scores the teacher higher is doing well: negative Wasserstein loss, small hinge loss.
        Assert.Equal(-1 - 1.25, HolisticDistillationLoss.Critic(onStudent, onTeacher, AdversarialLoss.Wasserstein).item<double>(), 12);
        Assert.Equal(0.5 + 0.25, HolisticDistillationLoss.Critic(onStudent, onTeacher, AdversarialLoss.Hinge).item<double>(), 12);
        // Swapped, it is doing badly: the Wasserstein loss changes sign, the hinge loss grows past its margins.
        Assert.Equal(2.25, HolisticDistillationLoss.Critic(onTeacher, onStudent, AdversarialLoss.Wasserstein).item<double>(), 12);
        Assert.Equal(2.25 + 2, HolisticDistillationLoss.Critic(onTeacher, onStudent, AdversarialLoss.Hinge).item<double>(), 12);
        // Beyond the margins (D(S) ≤ −1, D(T) ≥ 1) the hinge loss is exactly 0.
        Assert.Equal(0, HolisticDistillationLoss.Critic(tensor(new[] { -1.0, -3.0 }), tensor(new[] { 1.0, 4.0 }), AdversarialLoss.Hinge).item<double>());
        // The student gains by raising D on its maps.
        Assert.Equal(1, HolisticDistillationLoss.Student(onStudent).item<double>(), 12);
    }

    [Theory]
    [InlineData(1.0, 0.0)]
    [InlineData(2.0, 1.0)]
    [InlineData(0.5, 0.25)]
    public void Gradient_penalty_of_a_linear_critic_is_the_squared_distance_of_its_weight_norm_from_one(double norm, double penalty)
    {
        using var scope = NewDisposeScope();
        var direction = randn([4, 3, 5], ScalarType.Float64, generator: new Generator(1));
        var weight = (direction / direction.norm() * norm).requires_grad_(true);
        Tensor Critic(Tensor x) => (x * weight).sum([1, 2, 3]); // ∇ₓ D = weight for every sample
        var teacher = randn([6, 4, 3, 5], ScalarType.Float64, generator: new Generator(2));
        var student = randn([6, 4, 3, 5], ScalarType.Float64, generator: new Generator(3));

        var gp = HolisticDistillationLoss.GradientPenalty(Critic, teacher, student, new Generator(4));
        gp.backward();

        Assert.Equal(penalty, gp.item<double>(), 10);
        // The penalty keeps its graph: d/dw (‖w‖ − 1)² = 2(‖w‖ − 1)·w/‖w‖, zero at norm 1.
        var expectedGradient = weight.detach() * (2 * (norm - 1) / norm);
        Assert.True(weight.grad!.allclose(expectedGradient, rtol: 1e-9, atol: 1e-12));
    }

    [Fact]
    public void Gradient_penalty_interpolates_with_one_draw_per_sample_from_the_generator()
    {
        using var scope = NewDisposeScope();
        Tensor Critic(Tensor x) => x.square().sum([1, 2]); // ∇ₓ D = 2x at the interpolate
        var teacher = ones(3, 2, 2, ScalarType.Float64);
        var student = zeros(3, 2, 2, ScalarType.Float64);

        var gp = HolisticDistillationLoss.GradientPenalty(Critic, teacher, student, new Generator(7)).item<double>();

        // x = α·1 + (1 − α)·0 = α per sample: ‖2x‖ = 2α·sqrt(4) = 4α.
        var alpha = rand([3, 1, 1], generator: new Generator(7)).to(ScalarType.Float64);
        var expected = (alpha.flatten() * 4 - 1).square().mean().item<double>();
        Assert.Equal(expected, gp, 6);
        Assert.Equal(gp, HolisticDistillationLoss.GradientPenalty(Critic, teacher, student, new Generator(7)).item<double>());
    }
}
