using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>
/// The PIL image operations AutoAugment is defined with, batched over uint8 [N, C, H, W] images (C = 3 for PIL's
/// "RGB", 1 for "L"), one parameter per image, computed the way Pillow 9 computes them so that the outputs equal
/// PIL's pixel for pixel (the tests compare against PIL): the same coordinate conventions, the same float32 or
/// float64 arithmetic in the same order, the same truncations. Geometric operations fill uncovered pixels with grey
/// 128, as the AutoAugment implementation the BYOT authors use asks PIL to.
/// </summary>
internal static class ImageOperations
{
    /// <summary>The fill colour of uncovered pixels after a shear, translation or rotation.</summary>
    public const int Fill = 128;

    /// <summary>PIL's affine transforms sample at pixel centres (x + 0.5, y + 0.5).</summary>
    private const double PixelCentre = 0.5;

    /// <summary><c>ImageOps.invert</c>: 255 − v.</summary>
    public static Tensor Invert(Tensor images) => images.bitwise_not();

    /// <summary><c>ImageOps.posterize(img, bits)</c>: keeps the top <c>bits</c> bits of every value.</summary>
    public static Tensor Posterize(Tensor images, double[] bits)
    {
        using var scope = NewDisposeScope();
        var masks = bits.Select(b => (byte)(0xFF & ~((1 << (8 - (int)b)) - 1))).ToArray();
        return images.bitwise_and(PerImage(tensor(masks).to(images.device))).MoveToOuterDisposeScope();
    }

    /// <summary><c>ImageOps.solarize(img, threshold)</c>: values at or above the threshold become 255 − v.</summary>
    public static Tensor Solarize(Tensor images, double[] thresholds)
    {
        using var scope = NewDisposeScope();
        var below = images.to_type(ScalarType.Float64).lt(PerImage(Doubles(thresholds, images.device)));
        return where(below, images, images.bitwise_not()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <c>ImageOps.autocontrast(img)</c> (no cutoff): per channel, <c>int(v·scale + offset)</c> clipped to 0..255 with
    /// <c>scale = 255 / (hi − lo)</c>, <c>offset = −lo·scale</c> in float64; a channel with one value is unchanged.
    /// </summary>
    public static Tensor AutoContrast(Tensor images)
    {
        using var scope = NewDisposeScope();
        var values = images.to_type(ScalarType.Float64);
        var lo = values.amin([2, 3], keepdim: true);
        var hi = values.amax([2, 3], keepdim: true);
        // A true division (Tensor's scalar / operator would multiply by a rounded reciprocal).
        var scale = full_like(hi, 255.0).div(hi - lo);
        var offset = lo.neg().mul(scale);
        var stretched = values.mul(scale).add(offset).trunc().clamp(0, 255);
        return where(hi.gt(lo), stretched, values).to_type(ScalarType.Byte).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <c>ImageOps.equalize(img)</c>: per channel, with h its histogram and <c>step = (N − h[max]) // 255</c> (the count
    /// without the highest value present), value i maps to <c>(step // 2 + Σ_{j&lt;i} h[j]) // step</c>, clipped to 255
    /// as PIL's lookup table is; a channel with step 0 (one value, or too few pixels) is unchanged.
    /// </summary>
    public static Tensor Equalize(Tensor images)
    {
        using var scope = NewDisposeScope();
        long n = images.shape[0], channels = images.shape[1], pixels = images.shape[2] * images.shape[3];
        var values = images.to_type(ScalarType.Int64).view(n, channels, pixels);
        var histogram = zeros([n, channels, 256], ScalarType.Int64, images.device).scatter_add_(2, values, ones_like(values));
        var highest = histogram.gather(2, values.amax([2], keepdim: true));
        var step = (pixels - highest).div(255, rounding_mode: RoundingMode.floor);
        var below = histogram.cumsum(2) - histogram;
        var table = (below + step.div(2, rounding_mode: RoundingMode.floor))
            .div(step.clamp_min(1), rounding_mode: RoundingMode.floor).clamp_max(255);
        var equalised = where(step.gt(0), table.gather(2, values), values);
        return equalised.view(images.shape).to_type(ScalarType.Byte).MoveToOuterDisposeScope();
    }

    /// <summary><c>ImageEnhance.Brightness(img).enhance(f)</c>: blends from black.</summary>
    public static Tensor Brightness(Tensor images, double[] factors)
    {
        using var scope = NewDisposeScope();
        return Blend(zeros_like(images), images, factors).MoveToOuterDisposeScope();
    }

    /// <summary><c>ImageEnhance.Color(img).enhance(f)</c>: blends from the image's greyscale (PIL's "L" conversion).</summary>
    public static Tensor Color(Tensor images, double[] factors)
    {
        using var scope = NewDisposeScope();
        return Blend(Grey(images).expand_as(images), images, factors).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <c>ImageEnhance.Contrast(img).enhance(f)</c>: blends from a flat image at the greyscale mean,
    /// <c>int(mean + 0.5)</c> as ImageStat computes it.
    /// </summary>
    public static Tensor Contrast(Tensor images, double[] factors)
    {
        using var scope = NewDisposeScope();
        var grey = Grey(images);
        double pixels = grey.shape[2] * grey.shape[3];
        var mean = grey.sum([1, 2, 3], keepdim: true, type: ScalarType.Int64).to_type(ScalarType.Float64).div(pixels);
        var level = mean.add(0.5).floor().to_type(ScalarType.Int64);
        return Blend(level.expand_as(images), images, factors).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <c>ImageEnhance.Sharpness(img).enhance(f)</c>: blends from PIL's SMOOTH filter, the 3×3 kernel
    /// (1 1 1 / 1 5 1 / 1 1 1) / 13 in float32 with +0.5 and truncation, the border pixels left as they are.
    /// </summary>
    public static Tensor Sharpness(Tensor images, double[] factors)
    {
        using var scope = NewDisposeScope();
        return Blend(Smooth(images), images, factors).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A horizontal translation by <paramref name="offsets"/> pixels (output x reads input x + offset), nearest
    /// neighbour: <c>img.transform(size, AFFINE, (1, 0, t, 0, 1, 0), fillcolor=128)</c>.
    /// </summary>
    public static Tensor TranslateX(Tensor images, double[] offsets) => Translate(images, offsets, horizontal: true);

    /// <summary>A vertical translation: <c>img.transform(size, AFFINE, (1, 0, 0, 0, 1, t), fillcolor=128)</c>.</summary>
    public static Tensor TranslateY(Tensor images, double[] offsets) => Translate(images, offsets, horizontal: false);

    /// <summary>
    /// <c>img.transform(size, AFFINE, (1, s, 0, 0, 1, 0), BICUBIC, fillcolor=128)</c>: output (x, y) reads input
    /// (x + s·y) around pixel centres.
    /// </summary>
    public static Tensor ShearX(Tensor images, double[] shears) =>
        Bicubic(images, shears.Select(s => new[] { 1, s, 0, 0, 1, 0.0 }).ToArray());

    /// <summary><c>img.transform(size, AFFINE, (1, 0, 0, s, 1, 0), BICUBIC, fillcolor=128)</c>.</summary>
    public static Tensor ShearY(Tensor images, double[] shears) =>
        Bicubic(images, shears.Select(s => new[] { 1, 0, 0, s, 1, 0.0 }).ToArray());

    /// <summary>
    /// A counter-clockwise rotation by <paramref name="degrees"/> about the image centre, nearest neighbour, uncovered
    /// pixels grey: <c>img.convert("RGBA").rotate(d)</c> composited over grey 128. PIL maps output to input pixels in
    /// 16.16 fixed point (its <c>affine_fixed</c>), which is reproduced here integer for integer.
    /// </summary>
    public static Tensor Rotate(Tensor images, double[] degrees)
    {
        using var scope = NewDisposeScope();
        long height = images.shape[2], width = images.shape[3];
        var device = images.device;
        var coefficients = tensor(degrees.SelectMany(d => FixedPointRotation(d, width, height)).ToArray(), device: device)
            .view(-1, 6, 1, 1);
        var x = arange(width, ScalarType.Int64, device).view(1, 1, width);
        var y = arange(height, ScalarType.Int64, device).view(1, height, 1);
        Tensor Coefficient(int i) => coefficients[.., i];
        // Row y starts at a2 + y·a1 and each column adds a0 (likewise a5, a4, a3); >> 16 is a floor division.
        var column = (Coefficient(2) + y * Coefficient(1) + x * Coefficient(0)).div(65536, rounding_mode: RoundingMode.floor);
        var row = (Coefficient(5) + y * Coefficient(4) + x * Coefficient(3)).div(65536, rounding_mode: RoundingMode.floor);
        return Sample(images, row, column).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The six 16.16 fixed-point coefficients PIL's <c>Image.rotate</c> hands to <c>affine_fixed</c>: the inverse
    /// rotation matrix rounded to 15 decimals as Python's <c>round</c> does, centred at (w/2, h/2), then
    /// <c>FIX(v) = floor(v·65536 + 0.5)</c>, with the pixel-centre offsets folded into the translations.
    /// </summary>
    private static long[] FixedPointRotation(double degrees, long width, long height)
    {
        double turn = degrees % 360.0;
        if (turn < 0) turn += 360.0;
        double angle = -(turn * (Math.PI / 180.0));
        double cos = Round15(Math.Cos(angle)), sin = Round15(Math.Sin(angle)), negativeSin = Round15(-Math.Sin(angle));
        double[] a = [cos, sin, 0.0, negativeSin, cos, 0.0];
        double centreX = width / 2.0, centreY = height / 2.0;
        a[2] = a[0] * -centreX + a[1] * -centreY + a[2] + centreX;
        a[5] = a[3] * -centreX + a[4] * -centreY + a[5] + centreY;
        static long Fix(double v) => (long)Math.Floor(v * 65536.0 + 0.5);
        return [Fix(a[0]), Fix(a[1]), Fix(a[2] + a[0] * 0.5 + a[1] * 0.5), Fix(a[3]), Fix(a[4]), Fix(a[5] + a[3] * 0.5 + a[4] * 0.5)];
    }

    /// <summary>Python's <c>round(v, 15)</c>: the correctly rounded 15-decimal value, read back as a double.</summary>
    private static double Round15(double value) =>
        double.Parse(value.ToString("F15", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static Tensor Translate(Tensor images, double[] offsets, bool horizontal)
    {
        using var scope = NewDisposeScope();
        long height = images.shape[2], width = images.shape[3];
        long length = horizontal ? width : height;
        var device = images.device;
        // PIL's scale-affine path starts at t + 0.5 and adds 1 per pixel; COORD truncates, and reads below 0 as −1.
        var steps = ones([offsets.Length, length], ScalarType.Float64, device);
        steps[.., 0] = Doubles(offsets, device).add(PixelCentre);
        var positions = steps.cumsum(1);
        var source = where(positions.lt(0), full_like(positions, -1.0), positions.trunc()).to_type(ScalarType.Int64);
        var row = horizontal ? arange(height, ScalarType.Int64, device).view(1, height, 1) : source.view(-1, height, 1);
        var column = horizontal ? source.view(-1, 1, width) : arange(width, ScalarType.Int64, device).view(1, 1, width);
        return Sample(images, row, column).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Output pixel (x, y) of image n copies input pixel (<paramref name="row"/>, <paramref name="column"/>) (both
    /// broadcast to [N, H, W]) where that lies inside the image, and is grey elsewhere.
    /// </summary>
    private static Tensor Sample(Tensor images, Tensor row, Tensor column)
    {
        long n = images.shape[0], channels = images.shape[1], height = images.shape[2], width = images.shape[3];
        row = row.expand(n, height, width);
        column = column.expand(n, height, width);
        var inside = row.ge(0).logical_and(row.lt(height)).logical_and(column.ge(0)).logical_and(column.lt(width));
        var flat = (row.clamp(0, height - 1) * width + column.clamp(0, width - 1)).view(n, 1, height * width);
        var copied = images.reshape(n, channels, height * width).gather(2, flat.expand(n, channels, height * width));
        return copied.view(n, channels, height, width).masked_fill(inside.logical_not().unsqueeze(1), Fill);
    }

    /// <summary>
    /// PIL's generic affine transform with its bicubic filter (<c>bicubic_filter32RGB</c>): output (x, y) maps to
    /// <c>(a0·(x+½) + a1·(y+½) + a2, a3·(x+½) + a4·(y+½) + a5)</c>; outside the image it is grey, inside the 4×4
    /// neighbourhood (indices clamped to the image) is interpolated with PIL's cubic (a = −1) in float64 and truncated.
    /// </summary>
    private static Tensor Bicubic(Tensor images, double[][] affine)
    {
        using var scope = NewDisposeScope();
        long n = images.shape[0], channels = images.shape[1], height = images.shape[2], width = images.shape[3];
        var device = images.device;
        var a = tensor(affine.SelectMany(c => c).ToArray(), device: device).view(-1, 6, 1, 1);
        var x = arange(width, ScalarType.Float64, device).add(PixelCentre).view(1, 1, width);
        var y = arange(height, ScalarType.Float64, device).add(PixelCentre).view(1, height, 1);
        var sourceX = (a[.., 0] * x + a[.., 1] * y) + a[.., 2];
        var sourceY = (a[.., 3] * x + a[.., 4] * y) + a[.., 5];
        var inside = sourceX.ge(0).logical_and(sourceX.lt(width)).logical_and(sourceY.ge(0)).logical_and(sourceY.lt(height));
        var centreX = sourceX - PixelCentre;
        var centreY = sourceY - PixelCentre;
        var left = centreX.floor();
        var top = centreY.floor();
        var dx = centreX - left;
        var dy = centreY - top;
        var firstColumn = left.to_type(ScalarType.Int64) - 1;
        var firstRow = top.to_type(ScalarType.Int64) - 1;

        var pixels = images.reshape(n, channels, height * width).to_type(ScalarType.Float64);
        var rowStarts = Enumerable.Range(0, 4).Select(r => (firstRow + r).clamp(0, height - 1).mul_(width)).ToArray();
        var columns = Enumerable.Range(0, 4).Select(c => (firstColumn + c).clamp(0, width - 1)).ToArray();
        // Where every offset along an axis is 0 (a shear moves along one axis only), the cubic along it returns its
        // second sample exactly (v2 + 0·(…)), so only that sample is gathered: the same values with a quarter of the work.
        bool alongX = dx.ne(0).any().ToBoolean(), alongY = dy.ne(0).any().ToBoolean();
        Tensor Gather(int r, int c) => pixels.gather(2, (rowStarts[r] + columns[c]).view(n, 1, height * width)
            .expand(n, channels, height * width)).view(n, channels, height, width);
        Tensor Row(int r)
        {
            // One row of the 4×4 neighbourhood at a time, its gathers freed as soon as it is interpolated.
            using var rowScope = NewDisposeScope();
            var row = alongX ? Cubic(Gather(r, 0), Gather(r, 1), Gather(r, 2), Gather(r, 3), dx.unsqueeze(1)) : Gather(r, 1);
            return row.MoveToOuterDisposeScope();
        }
        var value = alongY ? Cubic(Row(0), Row(1), Row(2), Row(3), dy.unsqueeze(1)) : Row(1);
        var result = value.clamp_(0, 255).trunc_().to_type(ScalarType.Byte);
        return result.masked_fill(inside.logical_not().unsqueeze(1), Fill).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// PIL's BICUBIC macro, <c>v2 + d·((v3 − v1) + d·((2(v1 − v2) + v3 − v4) + d·(v2 − v1 − v3 + v4)))</c>, each double
    /// operation in its order (a + (−b) is a − b, products commute), reusing buffers in place.
    /// </summary>
    private static Tensor Cubic(Tensor v1, Tensor v2, Tensor v3, Tensor v4, Tensor d)
    {
        var p2 = v3 - v1;
        var p3 = (v1 - v2).mul_(2).add_(v3).sub_(v4);
        var p4 = (v2 - v1).sub_(v3).add_(v4);
        return p4.mul_(d).add_(p3).mul_(d).add_(p2).mul_(d).add_(v2);
    }

    /// <summary>
    /// <c>Image.blend(degenerate, image, f)</c>: <c>d + f·(v − d)</c> in float32 (PIL's C float), clipped to 0..255 and
    /// truncated.
    /// </summary>
    private static Tensor Blend(Tensor degenerate, Tensor images, double[] factors)
    {
        var alpha = Doubles(factors, images.device).to_type(ScalarType.Float32);
        var difference = (images.to_type(ScalarType.Int32) - degenerate.to_type(ScalarType.Int32)).to_type(ScalarType.Float32);
        var blended = degenerate.to_type(ScalarType.Float32) + difference * PerImage(alpha);
        return blended.clamp(0, 255).trunc().to_type(ScalarType.Byte);
    }

    /// <summary>
    /// PIL's "L" conversion, [N, 1, H, W]: <c>(19595·R + 38470·G + 7471·B + 0x8000) >> 16</c>; a one-channel image is
    /// its own grey.
    /// </summary>
    private static Tensor Grey(Tensor images)
    {
        if (images.shape[1] == 1) return images.to_type(ScalarType.Int64);
        var rgb = images.to_type(ScalarType.Int64);
        var weighted = rgb[.., 0..1] * 19595 + rgb[.., 1..2] * 38470 + rgb[.., 2..3] * 7471 + 0x8000;
        return weighted.div(65536, rounding_mode: RoundingMode.floor);
    }

    /// <summary>PIL's SMOOTH filter (see <see cref="Sharpness"/>) as uint8, with each float32 operation in PIL's order.</summary>
    private static Tensor Smooth(Tensor images)
    {
        long height = images.shape[2], width = images.shape[3];
        if (height < 3 || width < 3) return images;
        var v = images.to_type(ScalarType.Float32);
        var edge = tensor(1f / 13f);
        var centre = tensor(5f / 13f);
        var left = v[.., .., .., 0..(int)(width - 2)];
        var middle = v[.., .., .., 1..(int)(width - 1)];
        var right = v[.., .., .., 2..(int)width];
        var outer = left * edge + middle * edge + right * edge;
        var inner = left * edge + middle * centre + right * edge;
        // Rows below, at and above the pixel, added to the rounding offset in that order.
        var sum = (outer[.., .., 2..(int)height] + 0.5f) + inner[.., .., 1..(int)(height - 1)] + outer[.., .., 0..(int)(height - 2)];
        var filtered = sum.clamp(0, 255).trunc().to_type(ScalarType.Byte);
        var smooth = images.clone();
        smooth[.., .., 1..(int)(height - 1), 1..(int)(width - 1)] = filtered;
        return smooth;
    }

    private static Tensor Doubles(double[] values, Device device) => tensor(values, ScalarType.Float64, device);

    private static Tensor PerImage(Tensor values) => values.view(-1, 1, 1, 1);
}
