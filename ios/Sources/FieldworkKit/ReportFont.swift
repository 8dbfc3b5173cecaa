import Foundation

extension Fieldwork {
    /// Hands the package's font (`Resources/NotoSansSC-Regular.otf`, the
    /// core's font asset, SIL OFL) to the core, so `serviceReportPdf(id:)`
    /// can make the customer's PDF. Call once after opening the store.
    public func useBundledReportFont() throws {
        guard let url = Bundle.module.url(forResource: "NotoSansSC-Regular", withExtension: "otf") else {
            throw FieldworkError.Internal(
                code: "report_font", args: [:],
                detail: "the package's report font is missing: run ios/build-xcframework.sh")
        }
        try useReportFont(path: url.path)
    }
}
