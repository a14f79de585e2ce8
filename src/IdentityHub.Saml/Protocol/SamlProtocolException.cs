namespace IdentityHub.Saml.Protocol;

/// <summary>
/// A message IdentityHub refuses. <see cref="StatusCode"/> is the SAML core §3.2.2.2 status to answer
/// with when answering is safe; the message says what a developer should fix.
/// </summary>
public sealed class SamlProtocolException : Exception
{
    public SamlProtocolException(string message)
        : this(SamlStatus.Requester, message)
    {
    }

    public SamlProtocolException(string statusCode, string message)
        : base(message) => StatusCode = statusCode;

    public SamlProtocolException(string message, Exception innerException)
        : base(message, innerException) => StatusCode = SamlStatus.Requester;

    public SamlProtocolException()
        : this("The SAML message is invalid.")
    {
    }

    public string StatusCode { get; }
}
