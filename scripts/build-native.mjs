// placeholder: replaced by the native backend work
console.log('slimtext: native addon build not implemented yet');
