using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace IdentityHub.Data.SqlServer.Migrations
{
    /// <inheritdoc />
    public partial class SamlServiceProviders : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "SamlSeenMessages",
                columns: table => new
                {
                    Key = table.Column<string>(type: "nvarchar(64)", maxLength: 64, nullable: false),
                    ExpiresAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SamlSeenMessages", x => x.Key);
                });

            migrationBuilder.CreateTable(
                name: "SamlServiceProviders",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    ApplicationId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    EntityId = table.Column<string>(type: "nvarchar(800)", maxLength: 800, nullable: false),
                    AssertionConsumerServices = table.Column<string>(type: "nvarchar(max)", nullable: false),
                    SingleLogoutUrl = table.Column<string>(type: "nvarchar(2048)", maxLength: 2048, nullable: true),
                    SingleLogoutBinding = table.Column<string>(type: "nvarchar(128)", maxLength: 128, nullable: true),
                    SigningCertificate = table.Column<byte[]>(type: "varbinary(max)", nullable: true),
                    EncryptionCertificate = table.Column<byte[]>(type: "varbinary(max)", nullable: true),
                    AuthnRequestsSigned = table.Column<bool>(type: "bit", nullable: false),
                    SignResponse = table.Column<bool>(type: "bit", nullable: false),
                    SignAssertion = table.Column<bool>(type: "bit", nullable: false),
                    NameIdFormat = table.Column<string>(type: "nvarchar(128)", maxLength: 128, nullable: false),
                    AttributeMappings = table.Column<string>(type: "nvarchar(max)", nullable: false),
                    PairwiseSalt = table.Column<byte[]>(type: "varbinary(32)", maxLength: 32, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SamlServiceProviders", x => x.Id);
                    table.ForeignKey(
                        name: "FK_SamlServiceProviders_Applications_ApplicationId",
                        column: x => x.ApplicationId,
                        principalTable: "Applications",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_SamlSeenMessages_ExpiresAt",
                table: "SamlSeenMessages",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_SamlServiceProviders_ApplicationId",
                table: "SamlServiceProviders",
                column: "ApplicationId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_SamlServiceProviders_EntityId",
                table: "SamlServiceProviders",
                column: "EntityId",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "SamlSeenMessages");

            migrationBuilder.DropTable(
                name: "SamlServiceProviders");
        }
    }
}
