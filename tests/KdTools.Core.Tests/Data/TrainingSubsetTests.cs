using KdTools.Core.Data;

namespace KdTools.Core.Tests.Data;

/// <summary>Get-KdDataset -Path -TrainCount: the first images of each class, the whole test split.</summary>
public sealed class TrainingSubsetTests
{
    [Fact]
    public void Keeps_the_first_images_of_each_class_in_file_order_and_the_whole_test_split()
    {
        using var temp = new TempFolder();
        CifarFiles.WriteCifar10(temp.Path);
        using var whole = CifarReader.Read(temp.Path);

        using var subset = DatasetReader.Read(temp.Path, trainCount: 10);

        // Labels of the five batches are (3f + r) % 10: every class appears once or twice in the 15 images.
        var labels = whole.Train.Labels.data<long>().ToArray();
        var firstOfEach = Enumerable.Range(0, 10).Select(c => Array.IndexOf(labels, (long)c)).Order().ToArray();
        Assert.Equal(10, subset.Train.Count);
        Assert.Equal(firstOfEach.Select(i => labels[i]), subset.Train.Labels.data<long>().ToArray());
        using var picked = whole.Train.Images.index_select(0, TorchSharp.torch.tensor(firstOfEach.Select(i => (long)i).ToArray()));
        Assert.Equal(picked.data<byte>().ToArray(), subset.Train.Images.data<byte>().ToArray());
        Assert.Equal(whole.Test.Images.data<byte>().ToArray(), subset.Test.Images.data<byte>().ToArray());
        Assert.Equal(whole.Mean, subset.Mean);
    }

    [Fact]
    public void A_count_that_a_class_cannot_fill_or_below_the_classes_is_refused()
    {
        using var temp = new TempFolder();
        CifarFiles.WriteCifar10(temp.Path);

        var tooMany = Assert.Throws<KdException>(() => DatasetReader.Read(temp.Path, trainCount: 15));
        var tooFew = Assert.Throws<KdException>(() => DatasetReader.Read(temp.Path, trainCount: 9));

        Assert.Equal(KdErrorIds.DatasetArgumentInvalid, tooMany.ErrorId);
        Assert.Contains("-TrainCount", tooMany.Message);
        Assert.Equal(KdErrorIds.DatasetArgumentInvalid, tooFew.ErrorId);
    }
}
