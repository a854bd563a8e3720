using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>
/// A class-balanced part of a classification dataset's training split, with the whole test split: few labelled images
/// to learn from (where distillation pays most, and what a budget-sized reproduction trains on), judged on every test image.
/// </summary>
internal static class TrainingSubset
{
    /// <summary>
    /// The first images of each class in the split's order, <paramref name="count"/> in all (classes get
    /// <c>count / Classes</c> each, the first <c>count % Classes</c> classes one more), kept in their original order.
    /// The result is a new dataset (copies); normalisation statistics and class names are the original's.
    /// </summary>
    /// <exception cref="KdException"><see cref="KdErrorIds.DatasetArgumentInvalid"/>: a count below the number of classes
    /// or above what a class holds, a segmentation or streamed dataset.</exception>
    public static KdDataset Take(KdDataset dataset, int count)
    {
        if (dataset.Task != PredictionTask.Classification || dataset.IsStreamed)
            throw Invalid($"a training subset needs a classification dataset held in memory, but '{dataset.Source}' is " +
                          (dataset.IsStreamed ? "streamed; read it with -Stream:$false" : "a segmentation dataset"), count);
        if (count < dataset.Classes || count > dataset.Train.Count)
            throw Invalid($"TrainCount {count} must be between the number of classes ({dataset.Classes}) and the training " +
                          $"images of '{dataset.Source}' ({dataset.Train.Count})", count);

        using var scope = NewDisposeScope();
        var labels = dataset.Train.Labels;
        var picks = new List<Tensor>();
        for (var c = 0; c < dataset.Classes; c++)
        {
            var quota = count / dataset.Classes + (c < count % dataset.Classes ? 1 : 0);
            var members = labels.eq(c).nonzero().squeeze(1);
            if (members.shape[0] < quota)
                throw Invalid($"TrainCount {count} needs {quota} training images of class {dataset.ClassNames[c]}, but " +
                              $"'{dataset.Source}' has {members.shape[0]}; pass a smaller -TrainCount", count);
            picks.Add(members.narrow(0, 0, quota));
        }
        var index = cat(picks, 0).sort().Values;
        var train = new ImageSet(dataset.Train.Images.index_select(0, index).MoveToOuterDisposeScope(),
            labels.index_select(0, index).MoveToOuterDisposeScope());
        var test = new ImageSet(dataset.Test.Images.clone().MoveToOuterDisposeScope(), dataset.Test.Labels.clone().MoveToOuterDisposeScope());
        return new KdDataset(dataset.Name, $"{dataset.Source} (train subset {count})", dataset.Classes, train, test,
            dataset.Mean, dataset.Std, dataset.ClassNames);
    }

    private static KdException Invalid(string message, int count) =>
        new(KdErrorIds.DatasetArgumentInvalid, KdErrorKind.InvalidArgument, message, count);
}
