using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace IdentityHub.Data.SqlServer.Migrations
{
    /// <inheritdoc />
    public partial class SigningKeyRotation : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_SigningKeys_Use_RetiredAt",
                table: "SigningKeys");

            migrationBuilder.AddColumn<int>(
                name: "Generation",
                table: "SigningKeys",
                type: "int",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "RemovedAt",
                table: "SigningKeys",
                type: "datetimeoffset",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_SigningKeys_Use_Generation",
                table: "SigningKeys",
                columns: new[] { "Use", "Generation" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_SigningKeys_Use_Generation",
                table: "SigningKeys");

            migrationBuilder.DropColumn(
                name: "Generation",
                table: "SigningKeys");

            migrationBuilder.DropColumn(
                name: "RemovedAt",
                table: "SigningKeys");

            migrationBuilder.CreateIndex(
                name: "IX_SigningKeys_Use_RetiredAt",
                table: "SigningKeys",
                columns: new[] { "Use", "RetiredAt" });
        }
    }
}
