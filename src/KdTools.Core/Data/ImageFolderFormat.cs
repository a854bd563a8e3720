namespace KdTools.Core.Data;

/// <summary>Class subfolders of image files (<see cref="ImageFolderReader"/>); tried last, as any train/ + test/ folder matches.</summary>
[Registered]
internal sealed class ImageFolderFormat : DatasetFormat
{
    public override string Name => "ImageFolder";
    public override string Description => "torchvision ImageFolder: train/<class>/* and test/<class>/* (or val/), PNG, JPEG, BMP, TGA or GIF";
    public override PredictionTask Task => PredictionTask.Classification;

    public override string Layout =>
        $"'{ImageFolderReader.TrainFolderName}' and '{ImageFolderReader.TestFolderNames[0]}' subfolders holding one folder of images per class";

    public override int DetectionOrder => 90;
    public override bool CanStream => true;
    public override bool Recognizes(string folder) => ImageFolderReader.HasLayout(folder);

    public override KdDataset Read(string folder, DatasetReadOptions options) =>
        ImageFolderReader.Read(folder, options.ImageSize, options.Loading, options.Streaming);
}
