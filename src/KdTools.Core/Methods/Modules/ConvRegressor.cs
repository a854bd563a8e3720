using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdTools.Core.Methods.Modules;

/// <summary>
/// Maps a student feature map onto a teacher's shape (FitNet's regressor): a 3×3 stride-2 conv when the student map is
/// twice as large, a 4×4 stride-2 transposed conv when half as large, otherwise a valid conv that shrinks it exactly;
/// then BN and ReLU (as in RepDistiller's ConvReg).
/// </summary>
internal sealed class ConvRegressor : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> conv;
    private readonly BatchNorm2d bn;

    public ConvRegressor(long[] studentShape, long[] teacherShape) : base(nameof(ConvRegressor))
    {
        long sc = studentShape[1], sh = studentShape[2], sw = studentShape[3];
        long tc = teacherShape[1], th = teacherShape[2], tw = teacherShape[3];
        conv = (sh, th) switch
        {
            _ when sh == 2 * th => nn.Conv2d(sc, tc, 3, stride: 2, padding: 1),
            _ when sh * 2 == th => nn.ConvTranspose2d(sc, tc, 4, stride: 2, padding: 1),
            _ when sh >= th && sw >= tw => nn.Conv2d(sc, tc, (1 + sh - th, 1 + sw - tw)),
            _ => throw new KdException(KdErrorIds.FeatureMissing, KdErrorKind.InvalidArgument,
                $"cannot regress a {sh}×{sw} student map onto a {th}×{tw} teacher map; pick a hint stage where the student map is at least as large"),
        };
        bn = nn.BatchNorm2d(tc);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => nn.functional.relu(bn.call(conv.call(input)));
}
