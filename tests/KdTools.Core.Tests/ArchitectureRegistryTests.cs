using KdTools.Core.Models;

namespace KdTools.Core.Tests;

public class ArchitectureRegistryTests
{
    [Fact]
    public void Unknown_name_fails_with_stable_id_and_lists_known_names()
    {
        var ex = Assert.Throws<KdException>(() => ArchitectureRegistry.Get("resnt8"));
        Assert.Equal(KdErrorIds.ArchitectureUnknown, ex.ErrorId);
        Assert.Equal(KdErrorKind.InvalidArgument, ex.Kind);
        Assert.StartsWith("unknown architecture 'resnt8' (did you mean 'resnet8'?); known: ", ex.Message);
    }
}
