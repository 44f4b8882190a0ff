using ComplianceConsole.Core.Chain;
using ComplianceConsole.Core.Query;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Archive;

namespace ComplianceConsole.Web.Cli;

/// <summary>
/// <c>verify-archive FOLDER [--public-key FILE]</c>: checks one retention archive alone, offline, with the public key:
/// the signed manifest, every file's SHA-256, each entry against its canonical form and hashes, the removed ranges.
/// Reads only. Exit 0: intact; 1: what differs; 2: nothing to verify.
/// </summary>
public static class ArchiveCommand
{
    public static async Task<int> VerifyAsync(string[] args, IConfiguration configuration, string contentRoot)
    {
        if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
        {
            throw new UsageException("verify-archive needs the folder of one purge run first, for example: verify-archive App_Data/archives/purge-20261202T023000Z-1a2b3c [--public-key checkpoint-key.pub.pem].");
        }

        var folder = Path.GetFullPath(args[0]);
        var options = ConsoleCommands.Options(args[1..], "verify-archive", "--public-key");
        var keyPath = options.GetValueOrDefault("--public-key")
            ?? CheckpointKey.PublicKeyPathFor(ContentPath.Resolve(configuration["Audit:Checkpoints:KeyPath"] ?? "App_Data/checkpoint-key.pem", contentRoot));
        if (!File.Exists(keyPath))
        {
            await Console.Error.WriteLineAsync($"verify-archive: there is no public key at {keyPath}. Give the checkpoint public key (PEM): --public-key FILE.");
            return 2;
        }

        var (manifest, unreadable) = await ArchiveVerifier.ReadManifestAsync(folder);
        if (manifest is null)
        {
            await Console.Error.WriteLineAsync($"verify-archive: {unreadable}");
            return 2;
        }

        using var key = CheckpointPublicKey.FromPemFile(keyPath);
        var result = await ArchiveVerifier.VerifyAsync(folder, key);
        if (!result.IsValid)
        {
            Console.WriteLine($"BROKEN: {folder} is not the archive its manifest describes ({result.Problems.Count} problem(s)):");
            foreach (var problem in result.Problems)
            {
                Console.WriteLine("  " + problem);
            }

            return 1;
        }

        Console.WriteLine($"OK: {folder} is the archive of purge run {manifest.RunId}, signed with key {key.KeyId}: {manifest.Entries:N0} entries "
            + $"(seq {manifest.FirstSeq} to {manifest.LastSeq}, in {manifest.Ranges:N0} removed range(s)), {manifest.Snapshots:N0} record snapshots, "
            + $"archived by {manifest.By} at {TimeFormat.Format(manifest.CreatedAtUtc, TimeZoneInfo.Utc)} UTC.");
        Console.WriteLine($"Every file's SHA-256 matches; each entry checked against its canonical form, payload and row hash: {result.EntriesChecked:N0}. "
            + $"Manifest SHA-256 {manifest.Hash()} (the chain's anchor records it; run 'verify --archives' to check the two together).");
        return 0;
    }
}
