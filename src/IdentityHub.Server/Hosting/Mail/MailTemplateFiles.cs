namespace IdentityHub.Server.Hosting.Mail;

/// <summary>
/// Where a mail's files are: the active theme's <c>email</c> folder first, then the default theme's. Kept in one small class
/// so the general theme fallback can replace it.
/// </summary>
public sealed class MailTemplateFiles(string activeThemeFolder)
{
    private readonly string[] _folders = [.. new[]
    {
        Path.Combine(activeThemeFolder, "email"),
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(activeThemeFolder).TrimEnd(Path.DirectorySeparatorChar))!, "default", "email"),
    }.Distinct(StringComparer.Ordinal)];

    /// <summary>The first existing file named <paramref name="fileName"/>, or null.</summary>
    public string? Find(string fileName) =>
        _folders.Select(folder => Path.Combine(folder, fileName)).FirstOrDefault(File.Exists);

    /// <summary>The folders, most specific first (messages are merged: the theme's override the default's).</summary>
    public IReadOnlyList<string> Folders => _folders;
}
