using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace IdentityHub.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class ApplicationLaunchAndRoleDisplayName : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "IconUrl",
                table: "Applications",
                type: "TEXT",
                maxLength: 32768,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "LaunchUrl",
                table: "Applications",
                type: "TEXT",
                maxLength: 2000,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Theme",
                table: "Applications",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "DisplayName",
                table: "AccessRoles",
                type: "TEXT",
                maxLength: 200,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "IconUrl",
                table: "Applications");

            migrationBuilder.DropColumn(
                name: "LaunchUrl",
                table: "Applications");

            migrationBuilder.DropColumn(
                name: "Theme",
                table: "Applications");

            migrationBuilder.DropColumn(
                name: "DisplayName",
                table: "AccessRoles");
        }
    }
}
