using MudBlazor;

namespace ComplianceConsole.Web.Theming;

/// <summary>
/// The console's one theme, light and dark. Every colour that carries text passes WCAG AA (4.5:1) against what it sits
/// on: in light mode each colour is dark enough for white text and as text on the page; in dark mode each is light
/// enough for near-black text and as text on the dark surfaces. The measured ratios are in docs/ui-contrast.md
/// (recompute them with docs/contrast.py when a colour changes).
/// </summary>
public static class ConsoleTheme
{
    /// <summary>The same stack as assets/app.css, so static and interactive pages share one typography.</summary>
    public static readonly string[] FontFamily = ["Roboto", "Liberation Sans", "DejaVu Sans", "Arial", "sans-serif"];

    public static MudTheme Theme { get; } = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#1e4f91",
            PrimaryContrastText = "#ffffff",
            Secondary = "#8a5a00",
            SecondaryContrastText = "#ffffff",
            Tertiary = "#5b3c99",
            TertiaryContrastText = "#ffffff",
            Info = "#0369a1",
            InfoContrastText = "#ffffff",
            Success = "#15803d",
            SuccessContrastText = "#ffffff",
            Warning = "#b45309",
            WarningContrastText = "#ffffff",
            Error = "#b91c1c",
            ErrorContrastText = "#ffffff",
            TextPrimary = "#1f2328",
            TextSecondary = "#57606a",
            Background = "#f6f8fa",
            Surface = "#ffffff",
            DrawerBackground = "#ffffff",
            DrawerText = "#1f2328",
            DrawerIcon = "#57606a",
            AppbarBackground = "#1e4f91",
            AppbarText = "#ffffff",
            ActionDefault = "#57606a",
            LinesInputs = "#8c959f",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#8ab4f8",
            PrimaryContrastText = "#0b1a2e",
            Secondary = "#f2b705",
            SecondaryContrastText = "#1a1a1a",
            Tertiary = "#c4a7ff",
            TertiaryContrastText = "#1a1a1a",
            Info = "#7cc4fa",
            InfoContrastText = "#0b1a2e",
            Success = "#6fd08c",
            SuccessContrastText = "#0b1a2e",
            Warning = "#f5b94a",
            WarningContrastText = "#1a1a1a",
            Error = "#ff8a80",
            ErrorContrastText = "#1a1a1a",
            TextPrimary = "#e6edf3",
            TextSecondary = "#a9b4c0",
            Background = "#121821",
            Surface = "#1a2230",
            DrawerBackground = "#161d29",
            DrawerText = "#e6edf3",
            DrawerIcon = "#a9b4c0",
            AppbarBackground = "#16335c",
            AppbarText = "#ffffff",
            ActionDefault = "#a9b4c0",
            LinesInputs = "#7d8896",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = FontFamily },
            H1 = new H1Typography { FontFamily = FontFamily },
            H2 = new H2Typography { FontFamily = FontFamily },
            H3 = new H3Typography { FontFamily = FontFamily },
            H4 = new H4Typography { FontFamily = FontFamily },
            H5 = new H5Typography { FontFamily = FontFamily },
            H6 = new H6Typography { FontFamily = FontFamily },
            Subtitle1 = new Subtitle1Typography { FontFamily = FontFamily },
            Subtitle2 = new Subtitle2Typography { FontFamily = FontFamily },
            Body1 = new Body1Typography { FontFamily = FontFamily },
            Body2 = new Body2Typography { FontFamily = FontFamily },
            Button = new ButtonTypography { FontFamily = FontFamily },
            Caption = new CaptionTypography { FontFamily = FontFamily },
            Overline = new OverlineTypography { FontFamily = FontFamily },
        },
    };
}
