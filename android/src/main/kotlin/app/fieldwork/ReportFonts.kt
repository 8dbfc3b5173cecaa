package app.fieldwork

import java.io.File
import java.io.InputStream

/**
 * The font PDF service reports are set in. The module carries it as an asset
 * (`fonts/NotoSansSC-Regular.otf`, from core/assets); the core reads it from
 * a file, so it is copied out of the APK once, into a folder the app keeps
 * (`noBackupFilesDir`), and copied again only when the asset changes size.
 *
 * ```
 * ReportFonts.install(fieldwork, context.noBackupFilesDir) { context.assets.open(ReportFonts.ASSET) }
 * val pdf: ByteArray = fieldwork.serviceReportPdf(orderId)
 * ```
 */
object ReportFonts {
    const val ASSET = "fonts/NotoSansSC-Regular.otf"

    /** Copies the font into [dir] if need be and hands it to [fieldwork]. */
    fun install(fieldwork: Fieldwork, dir: File, open: () -> InputStream): File {
        val target = File(dir, "NotoSansSC-Regular.otf")
        val size = open().use { input -> sizeOf(input) }
        if (!target.isFile || target.length() != size) {
            val tmp = File(dir, "NotoSansSC-Regular.otf.tmp")
            open().use { input -> tmp.outputStream().use { input.copyTo(it) } }
            check(tmp.renameTo(target)) { "could not move the report font into $dir" }
        }
        fieldwork.useReportFont(target.path)
        return target
    }

    private fun sizeOf(input: InputStream): Long {
        val buffer = ByteArray(64 * 1024)
        var total = 0L
        while (true) {
            val n = input.read(buffer)
            if (n < 0) return total
            total += n
        }
    }
}
