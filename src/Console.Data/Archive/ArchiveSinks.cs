namespace ComplianceConsole.Data.Archive;

/// <summary>
/// Where retention archives go: one folder per purge run. The purge writes the files into a staging folder, publishes
/// it, then reads it back to verify it before anything is deleted. <see cref="FolderArchiveSink"/> is a local (or
/// mounted) folder. An S3 sink would stage locally, upload each file with Object Lock in compliance mode and a retention
/// date (PutObject with x-amz-object-lock-mode / -retain-until-date) and verify by reading the objects back; an Azure Blob
/// sink would use a container with a time-based immutability policy (WORM, locked). See docs/retention.md.
/// </summary>
public interface IArchiveSink
{
    /// <summary>Where the archive <paramref name="folder"/> is, for people and for the anchor: a path or a URL.</summary>
    string Location(string folder);

    /// <summary>An empty local folder to write the run's files into (anything left from an earlier attempt is removed).</summary>
    Task<string> StageAsync(string folder, CancellationToken cancellationToken = default);

    /// <summary>Makes the staged folder the archive, all at once: a folder that is published is complete.</summary>
    Task PublishAsync(string folder, CancellationToken cancellationToken = default);

    /// <summary>Whether the archive <paramref name="folder"/> is published.</summary>
    Task<bool> ExistsAsync(string folder, CancellationToken cancellationToken = default);

    /// <summary>A local folder holding the published archive's files, to read them back.</summary>
    Task<string> OpenAsync(string folder, CancellationToken cancellationToken = default);

    /// <summary>Removes an archive that no anchor points to (staged or published): a run that failed before its anchor.</summary>
    Task DiscardAsync(string folder, CancellationToken cancellationToken = default);
}

/// <summary>Archives in a folder: <c>&lt;root&gt;/&lt;run folder&gt;</c>, staged as <c>&lt;run folder&gt;.partial</c> and renamed when complete.</summary>
public sealed class FolderArchiveSink(string root) : IArchiveSink
{
    public string Root => root;

    public string Location(string folder) => Path.Combine(root, folder);

    public Task<string> StageAsync(string folder, CancellationToken cancellationToken = default)
    {
        var staging = Staging(folder);
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        Directory.CreateDirectory(staging);
        return Task.FromResult(staging);
    }

    public Task PublishAsync(string folder, CancellationToken cancellationToken = default)
    {
        Directory.Move(Staging(folder), Location(folder));
        return Task.CompletedTask;
    }

    public Task<bool> ExistsAsync(string folder, CancellationToken cancellationToken = default) => Task.FromResult(Directory.Exists(Location(folder)));

    public Task<string> OpenAsync(string folder, CancellationToken cancellationToken = default) => Task.FromResult(Location(folder));

    public Task DiscardAsync(string folder, CancellationToken cancellationToken = default)
    {
        foreach (var path in new[] { Staging(folder), Location(folder) })
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }

        return Task.CompletedTask;
    }

    private string Staging(string folder) => Path.Combine(root, folder + ".partial");
}
