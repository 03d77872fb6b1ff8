package fleet

// FileName is fileName, for the tests.
var FileName = fileName
