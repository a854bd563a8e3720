namespace KdTools.Core.Models;

/// <summary>Registers every architecture shipped with KdTools. Each family registers itself here.</summary>
internal static class BuiltInArchitectures
{
    public static void RegisterAll()
    {
    }
}
