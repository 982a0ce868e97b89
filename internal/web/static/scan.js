// Camera scanning for the hand-off form (/transplant/handoffs), where the
// browser reads barcodes itself (BarcodeDetector). It only adds a button:
// without it, or without this script, the form works as it is, a USB
// barcode scanner typing the organ identifier and Enter into it.
(function () {
  'use strict';
  var form = document.getElementById('handoff');
  var box = document.getElementById('camera');
  if (!form || !box || !('BarcodeDetector' in window) || !navigator.mediaDevices) {
    return;
  }
  var input = document.getElementById('handoff-organ_id');
  var video = document.getElementById('camera-view');
  box.hidden = false;
  document.getElementById('camera-start').addEventListener('click', function () {
    var detector = new window.BarcodeDetector({formats: ['qr_code', 'data_matrix']});
    navigator.mediaDevices.getUserMedia({video: {facingMode: 'environment'}}).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      var look = function () {
        detector.detect(video).then(function (codes) {
          if (codes.length === 0) {
            window.requestAnimationFrame(look);
            return;
          }
          stream.getTracks().forEach(function (t) { t.stop(); });
          input.value = codes[0].rawValue;
          form.submit();
        }, function () { window.requestAnimationFrame(look); });
      };
      look();
    }, function () {
      box.hidden = true;
      input.focus();
    });
  });
}());
