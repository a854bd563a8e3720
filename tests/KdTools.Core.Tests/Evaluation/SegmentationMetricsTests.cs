using KdTools.Core.Evaluation;
using KdTools.Core.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Evaluation;

public class SegmentationMetricsTests
{
    /// <summary>Logits [1, K, H, W] whose argmax is <paramref name="prediction"/> (row-major H×W class numbers).</summary>
    private static Tensor LogitsFor(long[] prediction, int classes, int height, int width) =>
        nn.functional.one_hot(tensor(prediction).view(1, height, width), classes).permute(0, 3, 1, 2).to(ScalarType.Float32).mul(5);

    private static Tensor Labels(long[] values, int height, int width) => tensor(values).view(1, height, width);

    [Fact]
    public void A_hand_counted_case_gives_its_ious_accuracy_and_mean()
    {
        using var scope = NewDisposeScope();
        using var metrics = new SegmentationMetrics(3, CPU);
        // Labels and predictions of 8 pixels (4×2); 255 is ignored even though it is predicted wrong.
        long[] labels = [0, 0, 1, 1, 2, 2, 2, 255];
        long[] predicted = [0, 1, 1, 1, 2, 2, 0, 1];

        metrics.Add(LogitsFor(predicted, 3, 2, 4), Labels(labels, 2, 4));
        var scores = metrics.Result();

        // Confusion (label × prediction): 0→{0:1, 1:1}; 1→{1:2}; 2→{2:2, 0:1}.
        // IoU 0 = 1/(2+2−1) = 1/3; IoU 1 = 2/(2+3−2) = 2/3; IoU 2 = 2/(3+2−2) = 2/3.
        Assert.Equal(7, scores.Pixels);
        Assert.Equal(5.0 / 7, scores.PixelAccuracy, 12);
        Assert.Equal(1.0 / 3, scores.ClassIoU[0], 12);
        Assert.Equal(2.0 / 3, scores.ClassIoU[1], 12);
        Assert.Equal(2.0 / 3, scores.ClassIoU[2], 12);
        Assert.Equal((1.0 / 3 + 2.0 / 3 + 2.0 / 3) / 3, scores.MeanIoU, 12);
        Assert.True(double.IsNaN(scores.TeacherAgreement));
        Assert.Equal("0=0.3333;1=0.6667;2=0.6667", scores.FormatClassIoU());
        Assert.Equal("bg=0.3333;car=0.6667;dog=0.6667", scores.FormatClassIoU(["bg", "car", "dog"]));
    }

    [Fact]
    public void A_class_in_neither_labels_nor_predictions_is_left_out_of_the_mean_but_a_false_positive_class_counts_as_zero()
    {
        using var scope = NewDisposeScope();
        using var metrics = new SegmentationMetrics(4, CPU);
        // Class 2 never occurs; class 3 is only predicted (once, wrongly).
        long[] labels = [0, 0, 1, 1];
        long[] predicted = [0, 3, 1, 1];

        metrics.Add(LogitsFor(predicted, 4, 2, 2), Labels(labels, 2, 2));
        var scores = metrics.Result();

        Assert.True(double.IsNaN(scores.ClassIoU[2]));
        Assert.Equal(0, scores.ClassIoU[3]);
        Assert.Equal((0.5 + 1 + 0) / 3, scores.MeanIoU, 12);
        Assert.Equal("0=0.5;1=1;3=0", scores.FormatClassIoU());
    }

    [Fact]
    public void Batches_accumulate_to_the_scores_of_one_batch_and_logits_are_upsampled_to_the_labels()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(1);
        var logits = randn([4, 5, 3, 3], generator: generator);
        var labels = randint(0, 5, [4, 12, 12], ScalarType.Int64, generator: generator);
        labels.masked_fill_(rand([4, 12, 12], generator: generator).lt(0.1), 255);
        using var whole = new SegmentationMetrics(5, CPU);
        using var split = new SegmentationMetrics(5, CPU);

        whole.Add(logits, labels);
        for (int b = 0; b < 4; b++) split.Add(logits.narrow(0, b, 1), labels.narrow(0, b, 1));

        var expected = whole.Result();
        var actual = split.Result();
        Assert.Equal(expected.ClassIoU, actual.ClassIoU);
        Assert.Equal(expected.Loss, actual.Loss, 6);
        // The upsampled argmax decides: pixel accuracy from a direct computation.
        var prediction = nn.functional.interpolate(logits, [12, 12], mode: InterpolationMode.Bilinear, align_corners: false).argmax(1);
        var valid = labels.ne(255);
        Assert.Equal(valid.sum().item<long>(), expected.Pixels);
        Assert.Equal(prediction.eq(labels).logical_and(valid).sum().item<long>() / (double)expected.Pixels, expected.PixelAccuracy, 12);
        // The loss is the task loss of the same batch.
        Assert.Equal(SegmentationCrossEntropy.Compute(logits, labels).item<float>(), expected.Loss, 5);
    }

    [Fact]
    public void Teacher_agreement_counts_labelled_pixels_where_both_predict_the_same()
    {
        using var scope = NewDisposeScope();
        using var metrics = new SegmentationMetrics(3, CPU);
        long[] labels = [0, 1, 2, 255];
        long[] student = [0, 1, 1, 2];
        long[] teacher = [0, 2, 1, 1];

        metrics.Add(LogitsFor(student, 3, 2, 2), Labels(labels, 2, 2), LogitsFor(teacher, 3, 2, 2));

        Assert.Equal(2.0 / 3, metrics.Result().TeacherAgreement, 12);
    }

    [Fact]
    public void The_task_loss_averages_over_labelled_pixels_and_is_zero_without_any()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new float[] { 2, 0, 0, 1 }).view(1, 2, 1, 2); // pixel 0: (2, 0); pixel 1: (0, 1)
        var labels = tensor(new long[] { 1, 255 }).view(1, 1, 2);

        var loss = SegmentationCrossEntropy.Compute(logits, labels).item<float>();
        var none = SegmentationCrossEntropy.Compute(logits, full(1, 1, 2, 255L, ScalarType.Int64)).item<float>();

        Assert.Equal(Math.Log(1 + Math.Exp(2)), loss, 5); // −log softmax(2, 0)[1]
        Assert.Equal(0, none);
    }
}
