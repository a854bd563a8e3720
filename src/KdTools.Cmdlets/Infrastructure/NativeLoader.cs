using System.Management.Automation;
using System.Runtime.InteropServices;

namespace KdTools.Cmdlets.Infrastructure;

/// <summary>
/// Loads libtorch's natives from the module's own folder when the module is imported. In a PowerShell process
/// TorchSharp does not find them by itself (it probes the host's folder, then copies hundreds of MB out of the
/// NuGet cache, or picks up a system libtorch). Once loaded by full path, TorchSharp's own by-name loads resolve to
/// these already-loaded libraries.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer
{
    public void OnImport() => NativeLoader.LoadFrom(Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!);
}

internal static class NativeLoader
{
    private static bool _loaded;
    private static readonly object Gate = new();

    /// <summary>In load order: libtorch's core first, then TorchSharp's bridge which links against it.</summary>
    private static string[] Libraries()
    {
        if (OperatingSystem.IsWindows()) return ["torch_cpu.dll", "LibTorchSharp.dll"];
        if (OperatingSystem.IsMacOS()) return ["libtorch_cpu.dylib", "libLibTorchSharp.dylib"];
        return ["libtorch_cpu.so", "libLibTorchSharp.so"];
    }

    public static void LoadFrom(string folder)
    {
        lock (Gate)
        {
            if (_loaded) return;
            foreach (var name in Libraries())
            {
                var path = Path.Combine(folder, name);
                if (!File.Exists(path))
                    throw new InvalidOperationException(
                        $"KdTools: the native library '{name}' is missing from '{folder}'. Rebuild the module with ./build.sh (it publishes libtorch beside the module's DLLs).");
                try
                {
                    NativeLibrary.Load(path);
                }
                catch (DllNotFoundException ex)
                {
                    throw new InvalidOperationException(
                        $"KdTools: could not load '{path}': {ex.Message}{Hint(ex.Message)}", ex);
                }
            }
            _loaded = true;
        }
    }

    private static string Hint(string message) => message.Contains("GLIBCXX", StringComparison.Ordinal)
        ? " — the system libstdc++ is older than GCC 13's; on Debian 12 run ./build.sh as root once (it installs libstdc++6 from Debian 13)."
        : "";
}
