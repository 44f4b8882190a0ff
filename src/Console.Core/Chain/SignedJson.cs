using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComplianceConsole.Core.Chain;

/// <summary>
/// The one way a manifest (an export's, an archive's) is written, hashed, signed and read: indented JSON; the signature
/// covers the JSON with an empty signature; the chain records the SHA-256 of the JSON as written.
/// </summary>
public static class SignedJson
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    public static string Write<T>(T manifest) => JsonSerializer.Serialize(manifest, Json);

    /// <summary>The bytes a signature covers: <paramref name="unsigned"/> (the manifest with an empty signature) as JSON.</summary>
    public static byte[] Bytes<T>(T unsigned) => Encoding.UTF8.GetBytes(Write(unsigned));

    public static string Sign<T>(T unsigned, CheckpointKey key) => Convert.ToBase64String(key.Sign(Bytes(unsigned)));

    public static string Hash<T>(T manifest) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Write(manifest))));

    /// <summary>Reads <paramref name="json"/> as a <typeparamref name="T"/> that <paramref name="complete"/> accepts (its version and required parts), or says why not.</summary>
    public static bool TryRead<T>(string json, string what, Func<T, bool> complete, [NotNullWhen(true)] out T? manifest, [NotNullWhen(false)] out string? reason)
        where T : class
    {
        manifest = null;
        try
        {
            manifest = JsonSerializer.Deserialize<T>(json, Json);
        }
        catch (JsonException ex)
        {
            reason = $"it is not {what} ({ex.Message})";
            return false;
        }

        if (manifest is null || !complete(manifest))
        {
            reason = $"it is not {what}";
            manifest = null;
            return false;
        }

        reason = null;
        return true;
    }
}
