using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace IdentityHub.Data.Cluster;

/// <summary>
/// What a message-based backplane (PostgreSQL NOTIFY, Redis pub/sub) carries: the sender's node id and its changes, as small
/// JSON. A batch too large for one message is split, since PostgreSQL refuses a NOTIFY payload of 8000 bytes or more.
/// </summary>
public sealed record ClusterMessage(
    [property: JsonPropertyName("n")] string Node,
    [property: JsonPropertyName("c")] IReadOnlyList<ClusterMessage.Change> Changes)
{
    /// <summary>Below PostgreSQL's 8000-byte NOTIFY limit, with room for the envelope.</summary>
    public const int MaxBytes = 7000;

    private static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() } };

    public sealed record Change([property: JsonPropertyName("t")] ClusterTopic Topic, [property: JsonPropertyName("k")] string Key);

    /// <summary>The changes as one or more messages, each at most <see cref="MaxBytes"/> bytes of UTF-8.</summary>
    public static IReadOnlyList<string> Encode(ClusterNodeIdentity from, IReadOnlyCollection<ClusterChange> changes)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(changes);
        var messages = new List<string>();
        var batch = new List<Change>();
        var batchBytes = 0;
        var envelopeBytes = Encoding.UTF8.GetByteCount(Serialize(new ClusterMessage(from.Id, [])));
        foreach (var change in changes.Distinct())
        {
            var item = new Change(change.Topic, change.Key);
            var itemBytes = Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(item, Json)) + 1;
            if (batch.Count > 0 && envelopeBytes + batchBytes + itemBytes > MaxBytes)
            {
                messages.Add(Serialize(new ClusterMessage(from.Id, batch)));
                batch = [];
                batchBytes = 0;
            }

            batch.Add(item);
            batchBytes += itemBytes;
        }

        if (batch.Count > 0)
        {
            messages.Add(Serialize(new ClusterMessage(from.Id, batch)));
        }

        return messages;
    }

    /// <summary>The message, or null when it is not one of ours (another program on the same channel).</summary>
    public static ClusterMessage? Decode(string payload)
    {
        try
        {
            return JsonSerializer.Deserialize<ClusterMessage>(payload, Json) is { Node: not null, Changes: not null } message ? message : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public IReadOnlyCollection<ClusterChange> ToChanges() => [.. Changes.Select(c => new ClusterChange(c.Topic, c.Key ?? string.Empty))];

    private static string Serialize(ClusterMessage message) => JsonSerializer.Serialize(message, Json);
}
