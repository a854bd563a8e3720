namespace KdTools.Core.Data;

/// <summary>One image per CSV row (<see cref="CsvImageReader"/>).</summary>
[Registered]
internal sealed class CsvFormat : DatasetFormat
{
    public override string Name => "Csv";
    public override string Description => "train.csv and test.csv: a label, then the pixels 0..255 channel-major, one image per row";
    public override PredictionTask Task => PredictionTask.Classification;
    public override string Layout => $"{CsvImageReader.TrainFileName} and {CsvImageReader.TestFileName}";
    public override int DetectionOrder => 20;

    public override bool Recognizes(string folder) =>
        File.Exists(Path.Combine(folder, CsvImageReader.TrainFileName)) || File.Exists(Path.Combine(folder, CsvImageReader.TestFileName));

    public override KdDataset Read(string folder, DatasetReadOptions options) =>
        CsvImageReader.Read(folder, options.Channels, options.ImageSize, options.ImageSize);
}
