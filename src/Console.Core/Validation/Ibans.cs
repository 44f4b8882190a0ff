namespace ComplianceConsole.Core.Validation;

/// <summary>IBAN checks (ISO 13616): shape and the mod-97 check digits, with messages that say what to fix.</summary>
public static class Ibans
{
    /// <summary>Upper case without spaces, the form an IBAN is stored in.</summary>
    public static string Normalize(string value) => string.Concat(value.Where(c => !char.IsWhiteSpace(c))).ToUpperInvariant();

    /// <summary>Null when <paramref name="value"/> is a valid IBAN; otherwise what is wrong with it.</summary>
    public static string? Problem(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return "Enter the IBAN, for example DE89 3704 0044 0532 0130 00.";
        }

        var iban = Normalize(value);
        if (iban.Length is < 15 or > 34)
        {
            return $"An IBAN has 15 to 34 characters; this one has {iban.Length}.";
        }

        if (!char.IsAsciiLetterUpper(iban[0]) || !char.IsAsciiLetterUpper(iban[1]) || !char.IsAsciiDigit(iban[2]) || !char.IsAsciiDigit(iban[3]))
        {
            return "An IBAN starts with a two-letter country code and two check digits, for example DE89.";
        }

        if (!iban.All(char.IsAsciiLetterOrDigit))
        {
            return "An IBAN has only letters and digits (spaces are allowed between groups).";
        }

        // Move the first four characters to the end, turn letters into 10..35, and take the number mod 97.
        var remainder = 0;
        foreach (var c in iban[4..] + iban[..4])
        {
            var digits = char.IsAsciiDigit(c) ? c - '0' : c - 'A' + 10;
            remainder = digits < 10 ? (remainder * 10 + digits) % 97 : (remainder * 100 + digits) % 97;
        }

        return remainder == 1 ? null : "The check digits do not match: look for a mistyped character.";
    }
}
