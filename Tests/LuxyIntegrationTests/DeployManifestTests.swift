import Foundation
import XCTest

/// `deploy/`: every manifest validates offline against the Kubernetes schemas
/// (kubernetes-validate, installed by scripts/install-deps), the kustomize base and overlay
/// build and validate, and the sidecar's own config and plugins pass `luxy check`.
final class DeployManifestTests: XCTestCase {
    private let deploy = BuiltLuxyBinary.repository.path + "/deploy"
    private var scratch = ""

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("luxy-deploy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    private func tool(_ arguments: [String]) throws -> LuxyCommandRunner.Outcome {
        try LuxyCommandRunner(workingDirectory: scratch, executable: "/usr/bin/env").run(arguments)
    }

    private func validate(_ files: [String]) throws -> LuxyCommandRunner.Outcome {
        try tool(["python3", "-m", "kubernetes_validate", "--strict", "--no-warn"] + files)
    }

    /// Every resource file of the base, by name (kustomization.yaml is kustomize's, not a resource).
    private func resourceFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: deploy + "/base")
            .filter { $0.hasSuffix(".yaml") && $0 != "kustomization.yaml" && $0 != "luxy.yaml" }
            .sorted().map { deploy + "/base/" + $0 }
    }

    func testManifestsValidateAgainstTheSchemas() throws {
        let files = try resourceFiles()
        XCTAssertEqual(files.map { ($0 as NSString).lastPathComponent }, ["deployment.yaml", "service.yaml"])
        let outcome = try validate(files)
        XCTAssertEqual(outcome.status, 0, outcome.all)
        XCTAssertEqual(outcome.stdout.components(separatedBy: "passed for resource").count - 1, 2, outcome.all)

        // The validator really checks: a wrong type and an unknown field fail.
        let broken = try String(contentsOfFile: deploy + "/base/deployment.yaml", encoding: .utf8)
            .replacingOccurrences(of: "replicas: 2", with: "replicas: two\n  replica_count: 2")
        try broken.write(toFile: scratch + "/broken.yaml", atomically: true, encoding: .utf8)
        XCTAssertNotEqual(try validate([scratch + "/broken.yaml"]).status, 0, "a broken Deployment must not validate")
    }

    /// `kubectl kustomize` (kubectl's built-in kustomize, offline) for the base and the overlay,
    /// each output validated as a whole.
    func testKustomizeBaseAndOverlayBuildAndValidate() throws {
        guard try tool(["kubectl", "version", "--client"]).status == 0 else {
            throw XCTSkip("kubectl is not installed: the manifests are validated file by file only")
        }
        for (name, folder) in [("base", "base"), ("overlay", "overlays/header-stamp")] {
            let built = try tool(["kubectl", "kustomize", deploy + "/" + folder])
            XCTAssertEqual(built.status, 0, built.all)
            let output = scratch + "/\(name).yaml"
            try built.stdout.write(toFile: output, atomically: true, encoding: .utf8)
            let outcome = try validate([output])
            XCTAssertEqual(outcome.status, 0, outcome.all)
            for resource in ["configmap/luxy-config", "configmap/luxy-plugins", "deployment/app", "service/app"] {
                XCTAssertTrue(outcome.stdout.contains("passed for resource \(resource)"), "\(name): \(resource)\n\(outcome.all)")
            }
            XCTAssertEqual(built.stdout.contains("header-stamp.lua"), name == "overlay", built.stdout)
        }
    }

    /// The base's and the overlay's luxy.yaml and plugins, with the pod's mount paths pointed
    /// at a scratch folder, pass `luxy check`: every script compiled, the outbound capture
    /// listener and its passthrough cluster accepted.
    func testSidecarConfigAndPluginsCheck() throws {
        for overlay in ["base", "overlays/header-stamp"] {
            let folder = scratch + "/" + overlay.replacingOccurrences(of: "/", with: "-")
            try FileManager.default.createDirectory(atPath: folder + "/plugins", withIntermediateDirectories: true)
            for source in [deploy + "/base/plugins", deploy + "/" + overlay + "/plugins"] {
                for file in (try? FileManager.default.contentsOfDirectory(atPath: source)) ?? [] {
                    try? FileManager.default.copyItem(atPath: source + "/" + file, toPath: folder + "/plugins/" + file)
                }
            }
            try "a-token\n".write(toFile: folder + "/token", atomically: true, encoding: .utf8)
            let yaml = try String(contentsOfFile: deploy + "/" + overlay + "/luxy.yaml", encoding: .utf8)
                .replacingOccurrences(of: "/etc/luxy/plugins", with: folder + "/plugins")
                .replacingOccurrences(of: "/etc/luxy/secrets/token", with: folder + "/token")
                + "modules_dir: \(BuiltLuxyBinary.repository.path)/modules\n"
            try yaml.write(toFile: folder + "/luxy.yaml", atomically: true, encoding: .utf8)
            let check = try LuxyCommandRunner(workingDirectory: folder).run(["check", "--config", "luxy.yaml"])
            XCTAssertEqual(check.status, 0, "\(overlay)\n\(check.all)")
            XCTAssertTrue(check.stdout.contains("plugins/token-check.lua"), check.all)
            XCTAssertEqual(check.stdout.contains("plugins/header-stamp.lua"), overlay != "base", check.all)
        }
    }
}
