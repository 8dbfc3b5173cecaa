// Builds the Fieldwork Android library on its own. In an app, include this
// directory as a module instead: include(":fieldwork"); project(":fieldwork").projectDir = file("…/fieldwork/android")
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "fieldwork"
