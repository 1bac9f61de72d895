using IngestLite.Jobs.Watching;

namespace IngestLite.Tests.Unit;

public sealed class NetworkMountsTests
{
    private static readonly string[] MountInfo =
    [
        "22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw",
        "40 22 0:36 / /mnt/nas rw,relatime shared:20 - nfs4 nas:/export rw,vers=4.2",
        "41 40 252:2 / /mnt/nas/local rw,relatime shared:21 - ext4 /dev/vdb1 rw",
        "42 22 0:37 / /srv/my\\040share rw,relatime shared:22 - cifs //host/share rw",
        "43 22 0:38 / /home/me/remote rw,nosuid shared:23 master:2 - fuse.sshfs me@host:/ rw",
    ];

    [TestCase("/mnt/nas/ai/outputs", "nfs4")]
    [TestCase("/mnt/nas", "nfs4")]
    [TestCase("/mnt/nas/local/outputs", null)]
    [TestCase("/mnt/nasty", null)]
    [TestCase("/srv/my share/pics", "cifs")]
    [TestCase("/home/me/remote/x", "fuse.sshfs")]
    [TestCase("/home/me/local", null)]
    public void The_longest_mount_point_holding_a_folder_decides(string folder, string? expected) =>
        Assert.That(NetworkMounts.FileSystemOf(folder, MountInfo), Is.EqualTo(expected));
}
