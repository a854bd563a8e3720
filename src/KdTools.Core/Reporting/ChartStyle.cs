using ScottPlot;

namespace KdTools.Core.Reporting;

/// <summary>What every KdTools chart shares: colours per series, a sans-serif font, PNG encoding.</summary>
internal static class ChartStyle
{
    // Families tried in order; ScottPlot's own default falls back to a serif face on Linux machines without Segoe UI.
    private static readonly string[] SansFamilies = ["Segoe UI", "Helvetica Neue", "Arial", "DejaVu Sans", "Liberation Sans", "Noto Sans"];

    private static readonly Lazy<string> SansFamily = new(() =>
        SansFamilies.FirstOrDefault(family => Fonts.GetTypeface(family, bold: false, italic: false)?.FamilyName == family) ?? Fonts.Sans);

    private static readonly IPalette Palette = new ScottPlot.Palettes.Category10();

    public static Color SeriesColor(int index) => Palette.GetColor(index);

    public static void Apply(Plot plot) => plot.Font.Set(SansFamily.Value);

    public static byte[] Png(Image image) => image.GetImageBytes(ImageFormat.Png, 100);
}
