using System.Security.Cryptography;

namespace ComplianceConsole.Core.Chain;

/// <summary>
/// The ECDSA P-256 private key that signs checkpoints. It must live where the database does not: a file outside the
/// database's backups, or an environment variable. It is never written into a checkpoint, a message or a log.
/// </summary>
public sealed class CheckpointKey : IDisposable
{
    private readonly ECDsa _key;

    private CheckpointKey(ECDsa key, string source, bool wasGenerated)
    {
        _key = key;
        Source = source;
        WasGenerated = wasGenerated;
        PublicKey = CheckpointPublicKey.FromPem(key.ExportSubjectPublicKeyInfoPem(), source);
    }

    /// <summary>The public half, which verifies what this key signed.</summary>
    public CheckpointPublicKey PublicKey { get; }

    /// <summary>Where the key came from, for the host to report: a file path or an environment variable name, never the key.</summary>
    public string Source { get; }

    /// <summary>True when no key existed and this one was just generated and written to disk.</summary>
    public bool WasGenerated { get; }

    /// <summary>
    /// The key from the PEM text in <paramref name="environmentVariable"/> when that is set, else from the PEM file at
    /// <paramref name="path"/>; when neither exists, generates one and writes it to <paramref name="path"/> (PKCS#8,
    /// mode 0600 on Unix) with its public key beside it (<see cref="PublicKeyPathFor"/>).
    /// </summary>
    public static CheckpointKey LoadOrCreate(string path, string? environmentVariable = null)
    {
        if (environmentVariable is not null && Environment.GetEnvironmentVariable(environmentVariable) is { Length: > 0 } pem)
        {
            return new CheckpointKey(ImportPrivate(pem, $"environment variable {environmentVariable}"), $"environment variable {environmentVariable}", false);
        }

        if (File.Exists(path))
        {
            return new CheckpointKey(ImportPrivate(File.ReadAllText(path), path), path, false);
        }

        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        Write(path, FileMode.CreateNew, key.ExportPkcs8PrivateKeyPem(), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        // A public key file left from an earlier key would mislead whoever verifies with it: replace it.
        Write(PublicKeyPathFor(path), FileMode.Create, key.ExportSubjectPublicKeyInfoPem(),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return new CheckpointKey(key, path, true);
    }

    /// <summary>Where the public key of the private key file at <paramref name="privateKeyPath"/> is written: <c>&lt;name&gt;.pub.pem</c> beside it.</summary>
    public static string PublicKeyPathFor(string privateKeyPath) =>
        Path.Combine(Path.GetDirectoryName(privateKeyPath) ?? "", Path.GetFileNameWithoutExtension(privateKeyPath) + ".pub.pem");

    /// <summary>Signs <paramref name="data"/>: ECDSA P-256 over SHA-256, IEEE P1363 (r || s).</summary>
    internal byte[] Sign(byte[] data) => _key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    public void Dispose()
    {
        _key.Dispose();
        PublicKey.Dispose();
    }

    private static ECDsa ImportPrivate(string pem, string source)
    {
        if (!PemEncoding.TryFind(pem, out var fields) || pem[fields.Label] is not ("PRIVATE KEY" or "EC PRIVATE KEY"))
        {
            throw new InvalidOperationException(
                $"The checkpoint signing key in {source} is not an unencrypted private key in PEM form (-----BEGIN PRIVATE KEY-----). " +
                "Point it at the key the console generated, or remove it to have a new one generated.");
        }

        return CheckpointPublicKey.ImportP256(pem, source);
    }

    /// <summary>Writes the file to disk with its permissions set at creation, so that a private key is never readable by others, even briefly.</summary>
    private static void Write(string path, FileMode fileMode, string text, UnixFileMode unixMode)
    {
        var options = new FileStreamOptions { Mode = fileMode, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = unixMode;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(text);
        writer.Flush();
        stream.Flush(flushToDisk: true);
    }
}

/// <summary>The public key that verifies checkpoints: all an auditor needs, together with the checkpoint file, to check a chain offline.</summary>
public sealed class CheckpointPublicKey : IDisposable
{
    private readonly ECDsa _key;

    private CheckpointPublicKey(ECDsa key)
    {
        _key = key;
        KeyId = Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16];
        Pem = key.ExportSubjectPublicKeyInfoPem();
    }

    /// <summary>The first 16 hex digits of the SHA-256 of the key's SubjectPublicKeyInfo; every checkpoint names the key that signed it.</summary>
    public string KeyId { get; }

    /// <summary>The key as SubjectPublicKeyInfo PEM (-----BEGIN PUBLIC KEY-----), to hand to auditors.</summary>
    public string Pem { get; }

    /// <summary>Reads a public key PEM file, such as the <c>.pub.pem</c> written beside a generated key.</summary>
    public static CheckpointPublicKey FromPemFile(string path) => FromPem(File.ReadAllText(path), path);

    /// <summary>Reads a public key from PEM text; <paramref name="source"/> names where it came from in error messages.</summary>
    public static CheckpointPublicKey FromPem(string pem, string source)
    {
        if (!PemEncoding.TryFind(pem, out var fields) || pem[fields.Label] != "PUBLIC KEY")
        {
            throw new InvalidOperationException(
                $"The checkpoint public key in {source} is not a public key in PEM form (-----BEGIN PUBLIC KEY-----). " +
                "Use the .pub.pem file written beside the console's signing key.");
        }

        return new CheckpointPublicKey(ImportP256(pem, source));
    }

    /// <summary>Whether the signature of <paramref name="checkpoint"/> is this key's signature over its other fields.</summary>
    public bool Verifies(Checkpoint checkpoint)
    {
        Span<byte> signature = stackalloc byte[64];
        return Convert.TryFromBase64String(checkpoint.Signature, signature, out var length) && length == 64
            && _key.VerifyData(checkpoint.SignedBytes(), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <summary>Whether <paramref name="signatureBase64"/> is this key's signature over <paramref name="data"/> (manifests).</summary>
    internal bool Verifies(byte[] data, string signatureBase64)
    {
        Span<byte> signature = stackalloc byte[64];
        return Convert.TryFromBase64String(signatureBase64, signature, out var length) && length == 64
            && _key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    public void Dispose() => _key.Dispose();

    /// <summary>Imports a private or public key PEM, refusing anything but an ECDSA P-256 key.</summary>
    internal static ECDsa ImportP256(string pem, string source)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            if (key.ExportParameters(includePrivateParameters: false).Curve.Oid.Value == ECCurve.NamedCurves.nistP256.Oid.Value)
            {
                return key;
            }
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            // Not an EC key at all; reported below, without the key material the exception might quote.
        }

        key.Dispose();
        throw new InvalidOperationException($"The checkpoint key in {source} is not an ECDSA P-256 key. Checkpoints are signed with ECDSA P-256 only.");
    }
}
