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
    public void OnImport()
    {
        var folder = Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!;
        NativeLoader.LoadFrom(folder);
        ManagedNatives.ResolveFrom(folder);
    }
}

/// <summary>
/// Points SkiaSharp and HarfBuzzSharp (the chart renderer's natives) and ONNX Runtime at the module's folder. Like
/// libtorch's, a PowerShell host does not find them by itself; unlike libtorch's, loading them up front would not help,
/// because their file names differ from their sonames, so a later load by name would not match. A resolver maps their
/// import names to the files instead, and only when a chart is first drawn or an ONNX model first loaded.
/// </summary>
internal static class ManagedNatives
{
    private static bool _registered;
    private static readonly object Gate = new();

    public static void ResolveFrom(string folder)
    {
        lock (Gate)
        {
            if (_registered) return;
            foreach (var assembly in new[]
                     {
                         typeof(SkiaSharp.SKImage).Assembly, typeof(HarfBuzzSharp.Blob).Assembly,
                         typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly,
                     })
                NativeLibrary.SetDllImportResolver(assembly, (name, _, _) => Load(folder, name));
            _registered = true;
        }
    }

    /// <summary>
    /// The module's copy of <paramref name="importName"/> ("libSkiaSharp", or "onnxruntime" for libonnxruntime.so), or
    /// zero to let the runtime search.
    /// </summary>
    private static IntPtr Load(string folder, string importName)
    {
        var extension = OperatingSystem.IsWindows() ? ".dll" : OperatingSystem.IsMacOS() ? ".dylib" : ".so";
        foreach (var name in new[] { importName, "lib" + importName })
        {
            var file = Path.Combine(folder, name + extension);
            if (File.Exists(file)) return NativeLibrary.Load(file);
        }
        return IntPtr.Zero;
    }
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
