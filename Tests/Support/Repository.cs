namespace IngestLite.Tests.Support;

/// <summary>The repository the tests run from: its root is the folder above the test binaries that holds IngestLite.csproj.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "IngestLite.csproj")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("the repository root (IngestLite.csproj) is not above the test binaries");
    }
}
