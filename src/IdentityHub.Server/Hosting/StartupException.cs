namespace IdentityHub.Server.Hosting;

/// <summary>A problem with configuration or the environment that stops start-up; the message says what to fix.</summary>
public sealed class StartupException(string message, Exception? innerException = null) : Exception(message, innerException);
