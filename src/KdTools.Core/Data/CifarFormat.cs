namespace KdTools.Core.Data;

/// <summary>The CIFAR-10/100 binary layout (<see cref="CifarReader"/>).</summary>
[Registered]
internal sealed class CifarFormat : DatasetFormat
{
    public override string Name => "Cifar";
    public override string Description => "CIFAR-10/100 binary: data_batch_1..5.bin + test_batch.bin, or train.bin + test.bin";
    public override PredictionTask Task => PredictionTask.Classification;
    public override string Layout => "CIFAR-10/100 binary files (data_batch_1.bin… or train.bin/test.bin)";
    public override int DetectionOrder => 10;
    public override bool Recognizes(string folder) => CifarReader.HasLayout(folder);
    public override KdDataset Read(string folder, DatasetReadOptions options) => CifarReader.Read(folder);
}
