#!/usr/bin/env python3
"""WCAG 2 contrast ratios of the console's theme (src/Console.Web/Theming/ConsoleTheme.cs), read from that file.

    python3 docs/contrast.py          # prints the table kept in docs/ui-contrast.md; exit 1 if a pair fails

Text needs 4.5:1 (AA); input borders and the focus ring, which are not text, need 3:1.
"""
import re
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "src/Console.Web/Theming/ConsoleTheme.cs"


def palettes():
    text = SOURCE.read_text()
    found = {}
    for name in ("PaletteLight", "PaletteDark"):
        block = re.search(name + r" = new " + name + r"\s*\{(.*?)\}", text, re.S).group(1)
        found[name] = dict(re.findall(r'(\w+) = "(#[0-9a-fA-F]{6})"', block))
    return found


def luminance(hex_colour):
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def ratio(a, b):
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def blend(colour, alpha, over):
    """A translucent colour over an opaque one (MudBlazor tints alerts with the colour at low alpha)."""
    mixed = [round(alpha * int(colour[i:i + 2], 16) + (1 - alpha) * int(over[i:i + 2], 16)) for i in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in mixed)


def pairs(p):
    rows = [
        ("Body text on surface", p["TextPrimary"], p["Surface"], 4.5),
        ("Body text on page background", p["TextPrimary"], p["Background"], 4.5),
        ("Secondary text on surface", p["TextSecondary"], p["Surface"], 4.5),
        ("Secondary text on page background", p["TextSecondary"], p["Background"], 4.5),
        ("Drawer text", p["DrawerText"], p["DrawerBackground"], 4.5),
        ("App bar text", p["AppbarText"], p["AppbarBackground"], 4.5),
    ]
    for colour in ("Primary", "Secondary", "Info", "Success", "Warning", "Error"):
        rows.append((f"{colour}: filled button or chip text", p[colour + "ContrastText"], p[colour], 4.5))
        rows.append((f"{colour}: link, outlined or text button on surface", p[colour], p["Surface"], 4.5))
        rows.append((f"{colour}: as text on page background", p[colour], p["Background"], 4.5))
    rows.append(("Error alert text on its tinted box", p["Error"], blend(p["Error"], 0.12, p["Surface"]), 4.5))
    rows.append(("Input border on surface (non-text)", p["LinesInputs"], p["Surface"], 3.0))
    rows.append(("Focus ring (primary) on page background (non-text)", p["Primary"], p["Background"], 3.0))
    return rows


def main():
    failed = False
    print("| theme | pair | colours | ratio | needs |")
    print("|---|---|---|---|---|")
    for name, palette in palettes().items():
        for label, fg, bg, need in pairs(palette):
            r = ratio(fg, bg)
            failed |= r < need
            mark = "" if r >= need else " **FAILS**"
            print(f"| {name[7:].lower()} | {label} | {fg} on {bg} | {r:.2f}:1{mark} | {need}:1 |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
